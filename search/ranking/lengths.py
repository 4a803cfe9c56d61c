"""Field lengths in one byte, as both backends weigh them.

BM25's length normalisation uses each document's field length. Whoosh keeps
it in one byte per document and field, on a logarithmic scale that is exact
for short fields and coarse for long ones (``round((1.033 ** b - 1) * 27)``
for byte ``b``: 1, 2, 3 … up to 106,374 words). The Xapian backend stores
term weights already normalised by the same quantised lengths, so that the
two backends score alike; this module is that scale, for both.
"""

from __future__ import annotations

from bisect import bisect_left

# The length each byte stands for (index = byte).
BYTE_LENGTHS = tuple(int(round((1.033 ** b - 1) * 27)) for b in range(256))
_LONGEST = BYTE_LENGTHS[-1]


def length_to_byte(length: int | None) -> int:
    """The byte of ``length``: the first whose length is not below it (255 from 106,374 on)."""
    if length is None:
        return 0
    if length >= _LONGEST:
        return 255
    return bisect_left(BYTE_LENGTHS, length)


def byte_to_length(byte: int) -> int:
    return BYTE_LENGTHS[byte]


def quantised(length: int) -> int:
    """``length`` as a length byte gives it back (at least 1)."""
    return byte_to_length(length_to_byte(length)) if length > 0 else 1
