"""What a hit holds of a word query beyond BM25: the features the first hits are re-ranked by.

A reader who remembers an article types a few of its words; the article
holds them as typed, close together, often some in its title. BM25F sees
none of that: the index holds stems, so ``Treffens`` and ``Treffer`` are
one term, and it counts words wherever they stand. For each of the first
hits of a plain word query (:mod:`.rerank`) these features are read from
the stored title and text, the same way whichever backend found the hit:

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
    the share of the query's words whose stem is in the title.

Words are compared by stem in the hit's own language (its chain), so an
inflected query still counts as close. A text is read up to
:data:`MAX_TEXT_CHARS` characters; the terms of a text read lately are kept
in a bounded cache (the first hits of a query are mostly among those of the
next queries for the same words).
"""

from __future__ import annotations

from ..analysis.chains import WORD, chain_for, lowercase_keeps_words, normalise_query_text
from ..cache import BoundedCache
from .exactness import held_forms_lowered, lowered_text, query_forms
from .weights import NAMES

__all__ = ["NAMES", "QueryWords", "features"]

MAX_TEXT_CHARS = 60_000
PAIR_DISTANCE = 2

_TERMS = BoundedCache(setting="rank_terms_cache_terms", size=lambda found: len(found) + 25)


class QueryWords:
    """The words of one query as the features compare them: the typed forms and, per
    language, each word's stem (stopwords of that language left out)."""

    def __init__(self, texts):
        self.texts = [normalise_query_text(t) for t in texts]
        self.forms = query_forms(self.texts)
        self._stems: dict[str, list[str | None]] = {}

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


def _terms(chain, text: str) -> list:
    """The index terms of ``text`` (stopwords left out), cached."""
    key = (chain.lang, text)
    found = _TERMS.get(key)
    if found is None:
        tokens = (WORD.findall(text.lower()) if lowercase_keeps_words(text)
                  else [w.lower() for w in WORD.findall(text)])
        found = _TERMS.put(key, chain.terms_of_tokens(tokens))
    return found


def features(stored: dict, words: QueryWords) -> list[float]:
    """The features of :data:`NAMES` for one hit (its stored fields)."""
    title = stored.get("title") or ""
    text = (stored.get("text") or "")[:MAX_TEXT_CHARS]
    forms = words.forms
    exact = float(bool(forms)
                  and held_forms_lowered(lowered_text(title, text), forms) == len(forms))
    chain = chain_for(stored.get("lang"))
    stems = words.stems(chain.lang)
    wanted = [s for s in stems if s]
    if not wanted:
        return [exact, 0.0, 0.0, 0.0]
    title_terms = _terms(chain, title)
    text_terms = _terms(chain, text)
    in_title = set(title_terms)
    title_share = sum(1 for s in wanted if s in in_title) / len(wanted)
    positions = _positions(text_terms, wanted)
    window = _window(positions, len(wanted))
    pairs = _pairs(wanted, positions, _positions(title_terms, wanted))
    return [exact, window, pairs, title_share]


def _positions(terms: list, wanted: list[str]) -> dict[str, list[int]]:
    index = {stem: [] for stem in wanted}
    for at, term in enumerate(terms):
        found = index.get(term)
        if found is not None:
            found.append(at)
    return index


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
