"""The corpus vocabulary and the "Meinten Sie" corrections drawn from it.

The vocabulary counts, for every word of the corpus as written (lowercase, not
stemmed), how many articles contain it. It is kept beside each index
generation and updated with every run of the indexer.
"""

from __future__ import annotations

import pickle
import re
import struct
import sys
import zlib
from array import array
from collections import Counter
from collections.abc import Mapping
from itertools import repeat
from operator import add
from pathlib import Path

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

FILE = "vocabulary.pickle"
_WORD = re.compile(r"[^\W\d_]{3,40}", re.UNICODE)


def _letters(word: str) -> int:
    """The letters of ``word`` as a 64-bit mask (a letter's bit: its code point mod 64)."""
    mask = 0
    for letter in set(word):
        mask |= 1 << (ord(letter) & 63)
    return mask


def surface_words(text: str) -> set[str]:
    """The distinct words of ``text`` worth suggesting: letters only, 3 to 40 long."""
    return {w.lower() for w in _WORD.findall(text)}


def surface_words_of_tokens(tokens) -> set[str]:
    """:func:`surface_words` of a text whose lowercasing keeps its words
    (:func:`search.analysis.lowercase_keeps_words`), from the ``WORD`` matches of the
    lowered text (:data:`search.analysis.WORD`, runs of letters and digits): every
    run of letters lies inside one of them, so each distinct token is looked at once
    and most are a word as they are."""
    words: set[str] = set()
    add = words.add
    for token in set(tokens):
        if len(token) < 3:
            continue
        if token.isalpha() and len(token) <= 40:
            add(token)
        else:  # digits inside, or longer than a word is kept
            words.update(_WORD.findall(token))
    return words


# The vocabulary file: this tag, the length of the next part, the words in the
# order they were counted (one per line, UTF-8, zlib), then their counts (32-bit
# little-endian, zlib). A third of the size of the pickled dict it replaced.
_MAGIC = b"NSVOCAB1"
_LENGTH = struct.Struct("<Q")


def _encode(counts: Counter) -> bytes:
    words = zlib.compress("\n".join(counts).encode("utf-8"), 6)
    numbers = array("I", counts.values())
    if sys.byteorder != "little":
        numbers.byteswap()
    return _MAGIC + _LENGTH.pack(len(words)) + words + zlib.compress(numbers.tobytes(), 6)


def _decode(data: bytes) -> Counter:
    at = len(_MAGIC)
    (size,) = _LENGTH.unpack_from(data, at)
    at += _LENGTH.size
    text = zlib.decompress(data[at:at + size]).decode("utf-8")
    numbers = array("I")
    numbers.frombytes(zlib.decompress(data[at + size:]))
    if sys.byteorder != "little":
        numbers.byteswap()
    words = text.split("\n") if text else []
    if len(words) != len(numbers):
        raise ValueError("vocabulary file is damaged")
    return Counter(dict(zip(words, numbers)))


class Vocabulary:
    def __init__(self, counts: Counter | None = None):
        self.counts = counts if counts is not None else Counter()
        # The words a correction may be (those in at least ``min_count`` articles), in the
        # order they were counted, the length and the letters of each: see :meth:`correct`.
        self._choices: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None

    def add(self, text: str) -> None:
        self.add_words(surface_words(text))

    def add_words(self, words) -> None:
        """Count each of ``words`` once more (the distinct words of one or more articles),
        or, given a mapping, each word as many more times as it says.

        A mapping (a part's counts from a worker, tens of thousands of words) is added
        by C iterators and one ``dict.update``, in the order ``Counter.update`` adds it:
        ``Counter.update`` of a mapping is a Python loop, 4.6 s of the indexing
        process's time over all FANG articles."""
        counts = self.counts
        if isinstance(words, Mapping) and counts:
            keys = words.keys()
            dict.update(counts, zip(keys, map(add, words.values(),
                                              map(counts.get, keys, repeat(0)))))
        else:
            counts.update(words)
        self._choices = None

    def remove(self, text: str) -> None:
        counts = self.counts
        for word in surface_words(text):
            left = counts.get(word, 0) - 1
            if left > 0:
                counts[word] = left
            else:
                counts.pop(word, None)
        self._choices = None

    def save(self, generation: Path) -> None:
        temporary = generation / (FILE + ".tmp")
        with open(temporary, "wb") as handle:
            handle.write(_encode(self.counts))
        temporary.replace(generation / FILE)

    @classmethod
    def load(cls, generation: Path | None) -> "Vocabulary":
        if generation is None:
            return cls()
        try:
            with open(generation / FILE, "rb") as handle:
                data = handle.read()
            if data.startswith(_MAGIC):
                return cls(_decode(data))
            return cls(Counter(pickle.loads(data)))  # written before the compact format
        except (FileNotFoundError, EOFError, pickle.UnpicklingError, ValueError, zlib.error,
                struct.error):
            return cls()

    def correct(self, word: str, *, max_edits: int = 2, min_count: int = 2,
                max_own: int | None = None) -> str | None:
        """The most frequent known word within ``max_edits`` of ``word``, found in more
        than 20 times as many articles.

        ``None`` when ``word`` itself is in more than ``max_own`` articles (by
        default ``min_count``) or nothing close is that much more common.
        """
        lowered = word.lower()
        own = self.counts.get(lowered, 0)
        if own > (min_count if max_own is None else max_own):
            return None
        edits = 1 if len(lowered) <= 4 else max_edits
        # Only the known words that can be within ``edits`` are compared: one more than
        # ``edits`` letters longer or shorter never is, nor one that lacks more than
        # ``edits`` of this word's distinct letters, or has more than ``edits`` letters
        # this word lacks (each such letter needs an edit of its own; letters are told
        # apart by a 64-bit mask, so two letters in one bit only let more words through).
        # They keep the order they were counted in, so the first 25 found and the answer
        # are the same as over all words.
        if self._choices is None or self._choices[0] != min_count:
            words = [w for w, c in self.counts.items() if c >= min_count]
            self._choices = (min_count, np.array(words, dtype=object),
                             np.fromiter(map(len, words), dtype=np.int32, count=len(words)),
                             np.fromiter(map(_letters, words), dtype=np.uint64,
                                         count=len(words)))
        _, words, lengths, letters = self._choices
        mine = np.uint64(_letters(lowered))
        near = (lengths >= len(lowered) - edits) & (lengths <= len(lowered) + edits)
        near &= np.bitwise_count(letters & ~mine) <= edits
        near &= np.bitwise_count(~letters & mine) <= edits
        candidates = process.extract(
            lowered, words[near].tolist(), scorer=Levenshtein.distance,
            score_cutoff=edits, limit=25,
        )
        best = None
        for candidate, distance, _ in candidates:
            if candidate == lowered:
                continue
            count = self.counts[candidate]
            if count <= own * 20:
                continue
            rank = (distance, -count, candidate)
            if best is None or rank < best[0]:
                best = (rank, candidate)
        return best[1] if best else None
