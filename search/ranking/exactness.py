"""Words as typed: how many of a query's words a hit holds exactly as typed.

The index holds stems, so ``Treffens`` and ``Treffer`` are one term and an
article holding the words of a query only in other forms can outscore the one
that holds them as typed. The share of the query's words a hit's title or
text holds as typed (case, umlauts and ``ß`` aside: ``Muenchen`` is
``München``) is one feature of the re-ranking of the first hits
(:mod:`.features`, :mod:`.rerank`). It is counted without folding the whole
text: each form is searched for in every spelling that folds to it.
"""

from __future__ import annotations

import re

from ..analysis.chains import WORD, normalise_query_text
from ..cache import BoundedCache

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def folded_words(text: str) -> set[str]:
    """The words of ``text``, lowercase, with umlauts and ``ß`` spelled out."""
    return set(WORD.findall(text.lower().translate(_FOLD)))


def written_stem(word: str, stem: str) -> str | None:
    """The start of ``word`` that its stem stands for, folded but with its umlauts kept.

    The chains' stems fold umlauts (``schöner`` and ``schon`` both stem to
    ``schon``, ``wählen`` and ``Wahl`` to ``wahl``); the word as the query writes
    it tells them apart. ``word`` is folded (:data:`_FOLD`: ``schöner`` and
    ``schoener`` are ``schoener``) and walked along ``stem``, an ``e`` after
    ``a``/``o``/``u`` being the umlaut's where the stem goes on without it:
    ``schoener`` with ``schon`` gives ``schoen``, ``waehlen`` with ``wahl`` gives
    ``waehl``. ``None`` when the stem is not the word's start in that way.
    """
    word = word.lower().translate(_FOLD)
    i = j = 0
    while j < len(stem):
        if i >= len(word):
            return None
        if word[i] == stem[j]:
            i += 1
            j += 1
        elif word[i] == "e" and i and word[i - 1] in "aou" and j and stem[j - 1] == word[i - 1]:
            i += 1
        else:
            return None
    return word[:i]


def holds_within(lowered: str, form: str) -> bool:
    """Whether ``form`` (folded, :func:`written_stem`) stands in ``lowered`` in any spelling
    that folds to it, inside a word or at its start (``schoen`` in ``wunderschönen``)."""
    if lowered.find(form) >= 0:
        return True
    if not any(d in form for d in _UNFOLD):
        return False
    spellings = _spellings(form)
    if spellings is None:
        return form in lowered.translate(_FOLD)
    return any(lowered.find(spelled) >= 0 for spelled in spellings)


def query_forms(texts) -> frozenset[str]:
    """The folded words of the query words ``texts``."""
    return frozenset(w for text in texts for w in folded_words(normalise_query_text(text)))


# -- the same count without folding the whole text ------------------------------------

_UNFOLD = {"ae": "ä", "oe": "ö", "ue": "ü", "ss": "ß"}
_MAX_PATTERN_FORM = 24


def held_forms(text: str, forms: frozenset[str]) -> int:
    """``len(forms & folded_words(text))``, found by searching the lowercase text for
    each form in every spelling that folds to it (most hits hold a query word early)."""
    return held_forms_lowered(text.lower(), forms) if forms else 0


def held_forms_lowered(lowered: str, forms: frozenset[str]) -> int:
    """:func:`held_forms` of a text given lowercased (:func:`lowered_text`)."""
    if not forms:
        return 0
    if any(len(f) > _MAX_PATTERN_FORM for f in forms):
        return len(forms & folded_words(lowered))
    return sum(1 for f in forms if _holds(lowered, f))


# ``f"{title} {text}".lower()`` of the hits re-ranked lately (a bounded LRU: the first
# hits of a query are mostly among those of the next queries for the same words).
_LOWERED = BoundedCache(setting="lowered_cache_chars", size=lambda lowered: len(lowered) + 200)


def lowered_text(title: str, text: str) -> str:
    """``f"{title} {text}".lower()``, cached."""
    return _lowered(title, text)


def _lowered(title: str, text: str) -> str:
    key = (title, text)
    found = _LOWERED.get(key)
    if found is None:
        found = _LOWERED.put(key, f"{title} {text}".lower())
    return found


def _holds(lowered: str, form: str) -> bool:
    """Whether a word of ``lowered`` folds to ``form``."""
    if _whole_word_at(lowered, form):  # spelled as folded: a plain substring search
        return True
    if not any(d in form for d in _UNFOLD):  # no other spelling folds to it
        return False
    spellings = _spellings(form)
    if spellings is None:
        return _form_pattern(form).search(lowered) is not None
    return any(_whole_word_at(lowered, spelled) for spelled in spellings)


_SPELLINGS: dict[str, tuple | None] = {}
_MAX_SPELLINGS = 16


def _spellings(form: str) -> tuple | None:
    """The other spellings that fold to ``form`` (None when there are too many)."""
    if form not in _SPELLINGS:
        def spelled(i: int) -> list[str]:
            if i == len(form):
                return [""]
            found = [form[i] + rest for rest in spelled(i + 1)]
            letter = _UNFOLD.get(form[i:i + 2])
            if letter:
                found += [letter + rest for rest in spelled(i + 2)]
            if len(found) > _MAX_SPELLINGS:
                raise OverflowError
            return found

        try:
            found = tuple(w for w in spelled(0) if w != form)
        except OverflowError:
            found = None
        if len(_SPELLINGS) > 10_000:
            _SPELLINGS.clear()
        _SPELLINGS[form] = found
    return _SPELLINGS[form]


def _whole_word_at(lowered: str, form: str) -> bool:
    # a word character is what WORD takes: alphanumeric (``[^\W_]``)
    at = lowered.find(form)
    size = len(form)
    while at >= 0:
        end = at + size
        if (at == 0 or not lowered[at - 1].isalnum()) and \
                (end == len(lowered) or not lowered[end].isalnum()):
            return True
        at = lowered.find(form, at + 1)
    return False


_PATTERNS: dict[str, re.Pattern] = {}


def _form_pattern(form: str) -> re.Pattern:
    pattern = _PATTERNS.get(form)
    if pattern is None:
        memo: dict[int, str] = {}

        def spelled(i: int) -> str:
            # every spelling of form[i:] that folds to it: each character as itself,
            # or a digraph as the letter that folds to it
            if i == len(form):
                return ""
            if i not in memo:
                options = [re.escape(form[i]) + spelled(i + 1)]
                letter = _UNFOLD.get(form[i:i + 2])
                if letter:
                    options.append(letter + spelled(i + 2))
                memo[i] = options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"
            return memo[i]

        pattern = re.compile(r"(?<![^\W_])" + spelled(0) + r"(?![^\W_])")
        if len(_PATTERNS) > 10_000:
            _PATTERNS.clear()
        _PATTERNS[form] = pattern
    return pattern
