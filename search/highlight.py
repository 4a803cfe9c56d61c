"""Snippets: the passages of a text around the words a query matched.

Matching is by index term, so a query for ``Häuser`` marks ``Haus`` and
``Hauses`` too. Everything that is not a ``<mark>`` is HTML-escaped.
"""

from __future__ import annotations

import re
import threading
from html import escape

from .analysis.chains import WORD, LanguageChain, lowercase_keeps_words
from .cache import BoundedCache

ELLIPSIS = "…"


# The fast path: lowercase the whole text once and find the matched words in
# it with one regular expression. False runs the word-by-word path, which gives
# the same snippets (tests/test_perf_equivalence.py compares them).
FAST_SNIPPETS = True


def matching_words(text: str, terms: frozenset[str] | set[str], chain: LanguageChain) -> set[str]:
    """The lowercase words of ``text`` whose index term is one of ``terms``."""
    if not terms:
        return set()
    if FAST_SNIPPETS and lowercase_keeps_words(text):
        words = set(WORD.findall(text.lower()))
        return words & _stems(chain).surfaces_of(words, terms)
    return _matching_words_plain(text, terms, chain)


class _Stems:
    """The stems of the words seen in snippets, for one language, and the other way
    round: the words seen for each stem. A text's matched words are then its words
    that are among the words seen for the query's terms (set operations in C)."""

    LIMIT = 500_000

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

    def _known(self, terms) -> set[str]:
        surfaces = self.surfaces
        known = [surfaces[t] for t in terms if t in surfaces]
        return set().union(*known) if known else set()

    def _learn(self, words: set[str]) -> None:
        missing = words.difference(self.stems)
        if missing:
            if len(self.stems) > self.LIMIT:
                self.stems.clear()
                self.surfaces.clear()
                self.generation += 1
                missing = words
            chain = self.chain
            stop = chain.stopwords
            for word in missing:
                stem = None if word in stop else chain.stem(word)
                self.stems[word] = stem
                if stem is not None:
                    found = self.surfaces.get(stem)
                    if found is None:
                        self.surfaces[stem] = {word}
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


def _match_spans(text: str, words: set[str]) -> list[tuple[int, int]]:
    if not words:
        return []
    if FAST_SNIPPETS and lowercase_keeps_words(text):
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


def mark(text: str, spans) -> str:
    """``text`` escaped, with ``spans`` wrapped in ``<mark>``."""
    out = []
    at = 0
    for start, end in spans:
        out.append(escape(text[at:start], quote=False))
        out.append("<mark>" + escape(text[start:end], quote=False) + "</mark>")
        at = end
    out.append(escape(text[at:], quote=False))
    return "".join(out)


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    """Move a window's edges out to the nearest word boundary."""
    if start > 0:
        space = text.rfind(" ", max(0, start - 20), start)
        start = space + 1 if space >= 0 else start
    if end < len(text):
        space = text.find(" ", end, end + 20)
        end = space if space >= 0 else end
    return start, end


def _windows(text: str, spans, context: int):
    windows = []
    for start, end in spans:
        if windows and start - context <= windows[-1][1]:
            windows[-1][1] = min(len(text), end + context)
            windows[-1][2].append((start, end))
        else:
            windows.append([max(0, start - context), min(len(text), end + context), [(start, end)]])
    return windows


# Passages are chosen within the first stretch of a text of this many characters (cut
# at a space) that holds a match: a long article is not read to its end for a snippet.
SCAN_CHARS = 8000


def snippet(text: str, terms, chain: LanguageChain, *, fragments: int = 3,
            context: int = 90, lead_chars: int = 240,
            scan_chars: int = SCAN_CHARS) -> tuple[str, str]:
    """``(html, plain)`` snippets of ``text`` for the index ``terms``.

    Up to ``fragments`` passages, the ones holding the most distinct matched
    words first, shown in text order. The text is searched in stretches of
    about ``scan_chars`` characters (cut at spaces), and the passages come from
    the first stretch that holds a match. Without a match, the lead.
    """
    spans = []
    if terms:
        if FAST_SNIPPETS:
            for stretch in _text_stretches(text, scan_chars):
                spans = _stretch_spans(text, stretch, terms, chain)
                if spans:
                    break
        else:
            for start, end in _stretches(text, scan_chars):
                piece = text[start:end]
                spans = _match_spans(piece, matching_words(piece, terms, chain))
                if spans:
                    if start:
                        spans = [(s + start, e + start) for s, e in spans]
                    break
    if not spans:
        lead = text[:lead_chars]
        if len(text) > lead_chars:
            lead = lead.rsplit(" ", 1)[0] + " " + ELLIPSIS
        lead = lead.replace("\n\n", " ")  # one line, as the passages are
        return escape(lead, quote=False), lead
    windows = _windows(text, spans, context)
    ranked = sorted(
        windows,
        key=lambda w: (-len({text[s:e].lower() for s, e in w[2]}), -len(w[2]), w[0]),
    )[:fragments]
    ranked.sort(key=lambda w: w[0])
    html_parts, plain_parts = [], []
    for start, end, inner in ranked:
        start, end = _widen(text, start, end)
        piece = text[start:end]
        shifted = [(s - start, e - start) for s, e in inner]
        prefix = ELLIPSIS + " " if start > 0 else ""
        suffix = " " + ELLIPSIS if end < len(text) else ""
        html_parts.append(prefix + mark(piece, shifted).replace("\n\n", " ") + suffix)
        plain_parts.append(prefix + piece.replace("\n\n", " ") + suffix)
    return " ".join(html_parts), " ".join(plain_parts)


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
# folding below (tests/test_highlight_initials.py checks it on real vocabularies):
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


def _initials_pattern(initials: frozenset):
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
TEXT_CACHE_CHARS = 32_000_000
_TEXTS = BoundedCache(TEXT_CACHE_CHARS)


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
        lowered = stretch.lowered = (piece.lower() if lowercase_keeps_words(piece)
                                     else False)
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
                generation = stems.learn(set(WORD.findall(lowered)))
            else:
                generation = stems.learn(set(_initials_pattern(initials).findall(lowered)))
                if learned is not None and learned[0] is stems and learned[1] == generation \
                        and learned[2] is not None:
                    initials = initials | learned[2]
            stretch.learned = (stems, generation, initials)
            known = stems.known(terms, generation)
    if known is None:  # offsets move when lowercased (or the stems were just forgotten)
        piece = text[start:end]
        if lowered is False and initials is not None:
            words = _matching_words_with_initials(piece, terms, chain, initials)
        else:
            words = matching_words(piece, terms, chain)
        spans = _match_spans(piece, words)
    else:
        spans = _whole_word_spans(lowered, known)
    if start and spans:
        spans = [(s + start, e + start) for s, e in spans]
    return spans


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


def highlight_paragraphs(text: str, terms, chain: LanguageChain) -> list[str]:
    """Every paragraph of ``text`` as escaped HTML, matched words marked."""
    words = matching_words(text, terms, chain)
    return [mark(p, _match_spans(p, words)) for p in text.split("\n\n") if p]
