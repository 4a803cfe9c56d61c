"""What a hit holds of a word query beyond BM25: the features the first hits are re-ranked by.

A reader who remembers an article types a few of its words; the article
holds them as typed, close together, often some in its title. BM25F sees
none of that: the index holds stems, so ``Treffens`` and ``Treffer`` are
one term, and it counts words wherever they stand. For each of the first
hits of a plain word query (:mod:`.rerank`) these features are computed the
same way whichever backend found the hit:

``exact``
    1.0 when the hit holds every word of the query as typed (case, umlauts and
    ``ß`` aside: ``Muenchen`` is ``München``), :mod:`.exactness`; else 0. Not
    the share of the words held as typed: on the development sets a share
    lifted every article holding one of the query's forms, which a reader who
    typed another inflection than the article's never meant (weight 0.5:
    success@1 of inflected known items .849 with the share, .894 with all
    words, of typed ones .959 and .972);
``window``
    how close the query's words stand in the text: ``k / w`` for the
    shortest stretch of ``w`` words (stopwords not counted) that holds one
    occurrence of each of the ``k`` query words the text holds, times
    ``k / n`` for a query of ``n`` words (1.0: all words side by side; the
    proximity rule of Meilisearch, the sloppy phrase of Lucene);
``pairs``
    the share of neighbouring query words (in the query's order) that stand
    within two words of each other, in that order, somewhere in the text or
    the title (a phrase the reader half remembers);
``title``
    the share of the query's words whose stem is in the title;
``written``
    1.0 when the hit holds every query word's stem as the query writes it,
    umlauts kept (:func:`.exactness.written_stem`), inside a word or at its
    start; else 0. The chains fold umlauts, so ``schöner`` and the adverb
    ``schon`` are one stem, and so are ``wählen`` and ``Wahl``; a reader who
    typed ``schöner`` meant an article holding ``schön…``, whatever its
    inflection (unlike ``exact``, which wants the very form typed).

Words are compared by stem in the hit's own language (its chain), so an
inflected query still counts as close. ``window``, ``pairs`` and ``title``
are computed from where the query's stems stand in the hit's title and text,
which the index holds (:meth:`search.backends.base.Session.term_positions`, one
call for all first hits): analysing each hit's stored text again to find them
was three quarters of a word query's time (p50 22.9 ms with the re-ranking,
5.2 ms without, 150 two-word queries on 10,000 FANG articles). The positions
count a field's indexed words as the chains do (stopwords take none), so the
features are those of the chains' terms of the stored text, the whole text
(``tests/integration/test_rerank_positions.py`` compares both on real
articles). Words as typed are looked for in the stored title and text, read
up to :data:`MAX_TEXT_CHARS` characters (the index holds stems only).
"""

from __future__ import annotations

from ..analysis.chains import WORD, chain_for, normalise_query_text
from .exactness import held_forms_lowered, holds_within, lowered_text, query_forms, written_stem
from .weights import NAMES

__all__ = ["NAMES", "QueryWords", "features"]

MAX_TEXT_CHARS = 60_000
PAIR_DISTANCE = 2


class QueryWords:
    """The words of one query as the features compare them: the typed forms and, per
    language, each word's stem (stopwords of that language left out)."""

    def __init__(self, texts):
        self.texts = [normalise_query_text(t) for t in texts]
        self.forms = query_forms(self.texts)
        self._stems: dict[str, list[str | None]] = {}
        self._written: dict[str, list[str]] = {}

    def stems(self, lang: str) -> list[str | None]:
        """The stem of each query word in ``lang`` (``None`` for its stopwords)."""
        found = self._stems.get(lang)
        if found is None:
            chain = chain_for(lang)
            found = []
            for text in self.texts:
                words = [w.lower() for w in WORD.findall(text)]
                words = [w for w in words if w not in chain.stopwords]
                found.append(chain.stem(words[0]) if len(words) == 1 else None)
            self._stems[chain.lang] = self._stems[lang] = found
        return found

    def written(self, lang: str) -> list[str]:
        """Each query word's stem in ``lang`` as the query writes it (:func:`written_stem`),
        for the words that have one."""
        found = self._written.get(lang)
        if found is None:
            found = []
            for text, stem in zip(self.texts, self.stems(lang)):
                form = written_stem(text, stem) if stem else None
                if form:
                    found.append(form)
            self._written[lang] = found
        return found

    def terms(self, langs) -> set[str]:
        """The stems of the query's words in any of ``langs``: the index terms whose
        positions the features of hits in those languages read."""
        return {stem for lang in langs for stem in self.stems(lang) if stem}


def features(stored: dict, words: QueryWords, places: dict) -> list[float]:
    """The features of :data:`NAMES` for one hit: its stored fields and ``places``,
    where the query's stems stand in its title and text (``{"title": {stem:
    positions}, "text": {...}}``, :meth:`search.backends.base.Session.term_positions`)."""
    title = stored.get("title") or ""
    text = (stored.get("text") or "")[:MAX_TEXT_CHARS]
    forms = words.forms
    lowered = lowered_text(title, text)
    exact = float(bool(forms) and held_forms_lowered(lowered, forms) == len(forms))
    lang = chain_for(stored.get("lang")).lang
    written = words.written(lang)
    written_held = float(bool(written) and all(holds_within(lowered, f) for f in written))
    stems = words.stems(lang)
    wanted = [s for s in stems if s]
    if not wanted:
        return [exact, 0.0, 0.0, 0.0, written_held]
    in_title = _positions(places.get("title"), wanted)
    in_text = _positions(places.get("text"), wanted)
    title_share = sum(1 for s in wanted if in_title[s]) / len(wanted)
    window = _window(in_text, len(wanted))
    pairs = _pairs(wanted, in_text, in_title)
    return [exact, window, pairs, title_share, written_held]


def _positions(held: dict | None, wanted: list[str]) -> dict[str, list[int]]:
    """Where each distinct wanted stem stands in a field (``[]``: nowhere), in the
    query's order."""
    held = held or {}
    return {stem: held.get(stem, []) for stem in wanted}


def _window(positions: dict[str, list[int]], count: int) -> float:
    """``k / w * k / n``: the shortest stretch of ``w`` terms holding each of the ``k``
    query words the text holds (0 when it holds fewer than two)."""
    present = [stem for stem, at in positions.items() if at]
    k = len(present)
    if k < 2:
        return 0.0
    events = sorted((at, i) for i, stem in enumerate(present) for at in positions[stem])
    seen = [0] * k
    covered = 0
    best = None
    left = 0
    for at, i in events:
        if seen[i] == 0:
            covered += 1
        seen[i] += 1
        while covered == k:
            start, j = events[left]
            width = at - start + 1
            if best is None or width < best:
                best = width
            seen[j] -= 1
            if seen[j] == 0:
                covered -= 1
            left += 1
    return (k / best) * (k / count)


def _pairs(wanted: list[str], *places: dict[str, list[int]]) -> float:
    """The share of neighbouring query words within :data:`PAIR_DISTANCE` terms of each
    other, in the query's order, in any of ``places``."""
    if len(wanted) < 2:
        return 0.0
    close = 0
    for first, second in zip(wanted, wanted[1:]):
        for positions in places:
            after = set(positions.get(second, ()))
            if after and any(at + d in after for at in positions.get(first, ())
                             for d in range(1, PAIR_DISTANCE + 1)):
                close += 1
                break
    return close / (len(wanted) - 1)
