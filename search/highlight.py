"""Snippets: the passages of a text around the words a query matched.

Matching is by index term, so a query for ``Häuser`` marks ``Haus`` and
``Hauses`` too. Everything that is not a ``<mark>`` is HTML-escaped.

Two paths give the same snippets (tests/integration/test_perf_equivalence.py
and tests/unit/test_highlight_initials.py compare them). The plain one splits the text
into words and stems each. The fast one (``Settings.fast_snippets``) keeps
each shown text split into stretches and lowercased, and the stems of the
words seen, per language, so that the next queries holding the same words
find their matches by set operations; in the languages whose stems keep a
word's first letter (``FIRST_LETTER_LANGS``), it stems only the words whose
first letter can begin one of the query's terms. What it keeps is bounded and
process-wide (``snippet_cache_chars``, ``stems_cache_words``:
:mod:`search.cache`).
"""

from __future__ import annotations

import re
import threading
from collections import Counter

from .analysis.chains import WORD, LanguageChain, lowercase_keeps_words
from .cache import BoundedCache, configured, on_pressure
from .passages import cut, mark

# How many snippets and highlighted texts each path cut ("fast", "plain"): the tests
# that compare the two check that both ran.
PATHS: Counter = Counter()


def matching_words(text: str, terms: frozenset[str] | set[str], chain: LanguageChain, *,
                   fast: bool) -> set[str]:
    """The lowercase words of ``text`` whose index term is one of ``terms``; ``fast``:
    the whole text lowercased at once where that keeps its words (the same words)."""
    if not terms:
        return set()
    if fast and lowercase_keeps_words(text):
        words = set(WORD.findall(text.lower()))
        return words & _stems(chain).surfaces_of(words, terms)
    return _matching_words_plain(text, terms, chain)


class _Stems:
    """The stems of the words seen in snippets, for one language, and the other way
    round: the words seen for each stem. A text's matched words are then its words
    that are among the words seen for the query's terms (set operations in C). At most
    ``stems_cache_words`` are kept (process-wide, :mod:`search.cache`)."""

    def __init__(self, chain: LanguageChain):
        self.chain = chain
        self.stems: dict[str, str | None] = {}  # None: a stopword
        self.surfaces: dict[str, set[str]] = {}
        self.lock = threading.Lock()
        self.generation = 0  # counts the times the stems were forgotten

    def surfaces_of(self, words: set[str], terms) -> set[str]:
        with self.lock:
            self._learn(words)
            return self._known(terms)

    def learn(self, words: set[str]) -> int:
        """Stem ``words`` (those not seen yet); the generation that holds them."""
        with self.lock:
            self._learn(words)
            return self.generation

    def known(self, terms, generation: int) -> set[str] | None:
        """Every word seen for ``terms``; None when the words stemmed in ``generation``
        were forgotten since."""
        with self.lock:
            return self._known(terms) if generation == self.generation else None

    def forget(self) -> None:
        """Forget every word seen (under memory pressure)."""
        with self.lock:
            self.stems.clear()
            self.surfaces.clear()
            self.generation += 1

    def _known(self, terms) -> set[str]:
        surfaces = self.surfaces
        known = [surfaces[t] for t in terms if t in surfaces]
        return set().union(*known) if known else set()

    def _learn(self, words: set[str]) -> None:
        missing = words.difference(self.stems)
        if missing:
            if len(self.stems) > configured("stems_cache_words"):
                self.stems.clear()
                self.surfaces.clear()
                self.generation += 1
                missing = words
            chain = self.chain
            stop = chain.stopwords
            stems, surfaces = self.stems, self.surfaces
            kept = []
            for word in missing:
                if word in stop:
                    stems[word] = None
                else:
                    kept.append(word)
            # one call into the stemmer for all of them
            for word, stem in zip(kept, chain.stems(kept)):
                stems[word] = stem
                found = surfaces.get(stem)
                if found is None:
                    surfaces[stem] = {word}
                else:
                    found.add(word)


_STEMS: dict[str, _Stems] = {}


def _stems(chain: LanguageChain) -> _Stems:
    found = _STEMS.get(chain.lang)
    if found is None or found.chain is not chain:
        found = _STEMS.setdefault(chain.lang, _Stems(chain))
    return found


def _matching_words_plain(text: str, terms, chain: LanguageChain) -> set[str]:
    stop = chain.stopwords
    unique = {w.lower() for w in WORD.findall(text)}
    candidates = [w for w in unique if w not in stop]
    stems = chain.terms(" ".join(candidates)) if candidates else []
    if len(stems) != len(candidates):  # a word split differently once lowercased
        stems = [chain.stem(w) for w in candidates]
    return {w for w, s in zip(candidates, stems) if s in terms}


def _matching_words_with_initials(text: str, terms, chain: LanguageChain, initials) -> set[str]:
    """What ``_matching_words_plain`` gives (each word lowercased on its own), stemming
    only the words whose folded first letter is one of ``initials`` (see
    ``FIRST_LETTER_LANGS``)."""
    stop = chain.stopwords
    unique = {w.lower() for w in WORD.findall(text)}
    stem = chain.stem
    return {w for w in unique
            if _FOLD_FIRST.get(w[0], w[0]) in initials and w not in stop and stem(w) in terms}


def _match_spans(text: str, words: set[str], fast: bool) -> list[tuple[int, int]]:
    if not words:
        return []
    if fast and lowercase_keeps_words(text):
        # Lowercasing keeps every offset here, so the spans found in the
        # lowercased text are the spans of the words in ``text``.
        return [m.span() for m in _words_pattern(frozenset(words)).finditer(text.lower())]
    return [m.span() for m in WORD.finditer(text) if m.group().lower() in words]


_PATTERNS: dict = {}
_PATTERNS_KEEP = 4096


def _words_pattern(words: frozenset):
    """One regular expression for whole-word occurrences of ``words`` (kept: the hits
    of one query mostly share their matched words)."""
    pattern = _PATTERNS.get(words)
    if pattern is None:
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))
        pattern = re.compile(r"(?<![^\W_])(?:" + alternatives + r")(?![^\W_])")
        if len(_PATTERNS) >= _PATTERNS_KEEP:
            _PATTERNS.clear()
        _PATTERNS[words] = pattern
    return pattern


def snippet(text: str, terms, chain: LanguageChain, *, fragments: int = 3,
            chars: int = 300, scan_chars: int, fast: bool) -> tuple[str, str]:
    """``(html, plain)`` snippets of ``text`` for the index ``terms``.

    About ``chars`` characters in up to ``fragments`` passages, the ones holding
    the most distinct matched words first, shown in text order (see
    :mod:`search.passages`). The text is searched in stretches of about
    ``scan_chars`` characters (cut at spaces: a long article is not read to its
    end for a snippet), and the passages come from the first stretch that holds
    a match. Without a match, the lead. ``fast``: the stretches and the stems of
    their words are kept, and only words that can match are stemmed (the same
    snippets as word by word).
    """
    spans = []
    PATHS["fast" if fast else "plain"] += 1
    if terms:
        if fast:
            for stretch in _text_stretches(text, scan_chars):
                spans = _stretch_spans(text, stretch, terms, chain)
                if spans:
                    break
        else:
            for start, end in _stretches(text, scan_chars):
                piece = text[start:end]
                spans = _match_spans(piece, matching_words(piece, terms, chain, fast=False),
                                     False)
                if spans:
                    if start:
                        spans = [(s + start, e + start) for s, e in spans]
                    break
    return cut(text, spans, fragments=fragments, chars=chars)


def _stretches(text: str, size: int):
    """``(start, end)`` of consecutive stretches of ``text`` of at most about ``size``
    characters, each ending at a space (a stretch without one runs to the text's end)."""
    start = 0
    while start < len(text):
        end = len(text)
        if end - start > size:
            cut = text.rfind(" ", start, start + size)
            if cut > start:
                end = cut
        yield start, end
        start = end


# Languages whose stem of a word begins with the word's first letter, up to the
# folding below (tests/unit/test_highlight_initials.py checks it on real vocabularies):
# Snowball's German stemmer turns a leading ``ä``/``ö``/``ü`` (also spelled
# ``ae``/``oe``/``ue``) into ``a``/``o``/``u`` and ``ß`` into ``ss``; the French one
# drops the accent of an ``é``/``è`` followed by consonants only (``ét`` -> ``et``);
# everything else they change lies past the first letter (their suffix regions start
# after a vowel and a consonant; the English prelude and exceptions keep the first
# letter too). "xx" is the chain without a stemmer. A word whose folded first letter
# is no term's folded first letter cannot stem to any of the terms, so only the words
# starting with those letters are stemmed for a snippet.
FIRST_LETTER_LANGS = frozenset({"de", "en", "fr", "xx"})
_FOLD_FIRST = {"ä": "a", "à": "a", "â": "a", "æ": "a", "ö": "o", "ô": "o", "œ": "o",
               "ü": "u", "ù": "u", "û": "u", "ß": "s", "é": "e", "è": "e", "ê": "e",
               "ë": "e", "î": "i", "ï": "i", "ç": "c", "ÿ": "y"}
_FOLD_FROM: dict[str, str] = {}
for _letter, _base in _FOLD_FIRST.items():
    _FOLD_FROM[_base] = _FOLD_FROM.get(_base, _base) + _letter


def fold_initial(word: str) -> str:
    """The first letter of ``word`` (lowercase), folded as above."""
    letter = word[:1]
    return _FOLD_FIRST.get(letter, letter)


_INITIALS: dict = {}


def term_initials(terms) -> frozenset:
    """The folded first letters of ``terms``."""
    key = terms if isinstance(terms, frozenset) else frozenset(terms)
    found = _INITIALS.get(key)
    if found is None:
        found = frozenset(fold_initial(t) for t in key if t)
        if len(_INITIALS) >= _PATTERNS_KEEP:
            _INITIALS.clear()
        _INITIALS[key] = found
    return found


_INITIAL_PATTERNS: dict = {}


def initials_pattern(initials: frozenset):
    """A regular expression for the words (runs of letters and digits) of a lowercase
    text whose folded first letter is one of ``initials``."""
    pattern = _INITIAL_PATTERNS.get(initials)
    if pattern is None:
        letters = "".join(sorted(set("".join(_FOLD_FROM.get(i, i) for i in initials))))
        if letters:
            # the letter first, then that no word character precedes it: the engine
            # skips ahead to the letters instead of testing every position
            pattern = re.compile("[" + re.escape(letters) + r"](?<![^\W_].)[^\W_]*")
        else:
            pattern = re.compile(r"(?!)")
        if len(_INITIAL_PATTERNS) >= _PATTERNS_KEEP:
            _INITIAL_PATTERNS.clear()
        _INITIAL_PATTERNS[initials] = pattern
    return pattern


@on_pressure
def _forget() -> None:
    """Under memory pressure: the stems seen and the patterns kept go (they are rebuilt
    as snippets need them)."""
    for stems in list(_STEMS.values()):
        stems.forget()
    for kept in (_PATTERNS, _INITIALS, _INITIAL_PATTERNS):
        kept.clear()


class _Stretch:
    """One stretch of a text: where it lies, lowercased (False where lowercasing would
    move offsets), and which stems cache holds its words (in which generation; and
    which first letters: None for all of them)."""

    __slots__ = ("start", "end", "lowered", "learned")

    def __init__(self, start: int, end: int):
        self.start, self.end = start, end
        self.lowered = None
        self.learned = None


# The stretches of recently shown texts (a bounded LRU: the hits of one query are
# shown again for the next queries holding the same words; lowercasing and splitting
# a text into words was most of a snippet's work).
_TEXTS = BoundedCache(setting="snippet_cache_chars")


def _text_stretches(text: str, size: int) -> list[_Stretch]:
    key = (text, size)
    found = _TEXTS.get(key)
    if found is None:
        found = _TEXTS.put(key, [_Stretch(start, end) for start, end in _stretches(text, size)],
                           _text_cost(text, size))
    return found


def _text_cost(text: str, size: int) -> int:
    # the text, and about a stretch of it lowercased (most texts match in their first)
    return len(text) + min(len(text), size) + 200


def _stretch_spans(text: str, stretch: _Stretch, terms, chain: LanguageChain) -> list:
    """The spans (in ``text``) of the words of one stretch whose index term is one of
    ``terms``: the words seen for those terms that the stretch holds, found by one
    pattern (once the stretch's words have all been stemmed, it is not split again)."""
    start, end = stretch.start, stretch.end
    lowered = stretch.lowered
    if lowered is None:
        piece = text[start:end]
        lowered = stretch.lowered = piece.lower() if lowercase_keeps_words(piece) else False
    known = None
    initials = term_initials(terms) if chain.lang in FIRST_LETTER_LANGS else None
    if lowered is not False:
        stems = _stems(chain)
        learned = stretch.learned
        if learned is not None and learned[0] is stems and (
                learned[2] is None or (initials is not None and initials <= learned[2])):
            known = stems.known(terms, learned[1])
        if known is None:
            if initials is None:
                found = set(WORD.findall(lowered))
                generation = stems.learn(found)
            else:
                found = set(initials_pattern(initials).findall(lowered))
                generation = stems.learn(found)
            known = stems.known(terms, generation)
            if known is not None:
                known = _present(known, found, initials)
            if initials is not None and learned is not None and learned[0] is stems \
                    and learned[1] == generation and learned[2] is not None:
                initials = initials | learned[2]
            stretch.learned = (stems, generation, initials)
    if known is None:  # offsets move when lowercased (or the stems were just forgotten)
        piece = text[start:end]
        if lowered is False and initials is not None:
            words = _matching_words_with_initials(piece, terms, chain, initials)
        else:
            words = matching_words(piece, terms, chain, fast=True)
        spans = _match_spans(piece, words, True)
    else:
        spans = _whole_word_spans(lowered, known)
    if start and spans:
        spans = [(s + start, e + start) for s, e in spans]
    return spans


def _present(known: set, found: set, initials) -> set:
    """Of the words ``known`` for a query's terms, those a stretch can hold as whole
    words: those among the words ``found`` in it (all of its words, or all those with a
    folded first letter among ``initials``), and any known word outside what was looked
    for. Searching the stretch for these alone gives the spans of all ``known`` (most
    words seen for a term are not in a given stretch: each was a search of it)."""
    present = known & found
    if initials is not None and len(present) < len(known):
        get = _FOLD_FIRST.get
        present.update(w for w in known.difference(found) if get(w[0], w[0]) not in initials)
    return present


def _whole_word_spans(lowered: str, words) -> list:
    """The spans of the whole-word occurrences of ``words`` (each a run of word
    characters) in ``lowered``, in text order: what ``_words_pattern(words)`` finds.
    Two such occurrences never overlap (each is bounded by non-word characters), so
    the occurrences of each word are found on their own with ``str.find``."""
    spans = []
    size = len(lowered)
    for word in words:
        at = lowered.find(word)
        length = len(word)
        while at >= 0:
            end = at + length
            if (at == 0 or not lowered[at - 1].isalnum()) and \
                    (end == size or not lowered[end].isalnum()):
                spans.append((at, end))
                at = lowered.find(word, end + 1)
            else:
                at = lowered.find(word, at + 1)
    spans.sort()
    return spans


def word_spans(text: str, terms, chain: LanguageChain, *, scan_chars: int,
               fast: bool) -> list[tuple[int, int]]:
    """``(start, end)`` of every word of the whole ``text`` whose index term is one of
    ``terms``, in text order (what :func:`highlight_paragraphs` marks); ``fast``: stretch
    by stretch as snippets are, stemming only the words that can stem to ``terms``."""
    if not terms:
        return []
    if not fast:
        return _match_spans(text, matching_words(text, terms, chain, fast=False), False)
    spans = []
    for stretch in _text_stretches(text, scan_chars):
        spans.extend(_stretch_spans(text, stretch, terms, chain))
    return spans


def highlight_paragraphs(text: str, terms, chain: LanguageChain, *, fast: bool) -> list[str]:
    """Every paragraph of ``text`` as escaped HTML, matched words marked (``fast``: as
    for :func:`snippet`)."""
    PATHS["fast" if fast else "plain"] += 1
    words = matching_words(text, terms, chain, fast=fast)
    return [mark(p, _match_spans(p, words, fast)) for p in text.split("\n\n") if p]
