"""Whoosh W3 posting lists encoded from arrays: many terms at a time, no Python per posting.

A W3 posting list is a header, then blocks of up to 128 postings, each a 4-byte
length, a small pickled info tuple and the pickled ``(id deltas, weights,
values)`` tuple, zlib-compressed; a term of one or two postings keeps its tuple
in its row of the term table instead (inlined). Writing each term through
Python lists and ``pickle.dumps`` cost a few microseconds per posting, and the
position value of each posting (``Positions``: a 4-byte count and a protocol-2
pickle of the list of position deltas) one more pickle call: a third of a build.

Here the pickles are assembled as bytes with numpy for a whole range of terms:
every integer of them is a pickle int opcode (``K`` one byte, ``M`` two, ``J``
four, little-endian) written into one buffer at offsets computed with cumulative
sums, every weight a ``G`` opcode (big-endian double), every position value a
``C``/``B`` byte string holding exactly the bytes :func:`encode_positions` makes.
Python then only joins each block's slices, compresses it and packs its info (per
block and per term, never per posting). The tuples unpickle to what Whoosh's own
writer stores (ids, weights and values alike; the pickles carry no frame and no
memo opcodes, which readers do not need), so Whoosh's readers, the compact-array
readers and the equivalence tests see the same postings.
"""

from __future__ import annotations

import pickle

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.system import pack_int, pack_long, pack_ushort

from ...ranking.lengths import BYTE_LENGTHS
from .internals import COMPRESS_MIN_BYTES, INLINE_MAX, TermWriter, compress_block, encode_positions

# A row of the term table: W3TermInfo's struct ("!BfIBBfII") as a numpy record.
_ROW = np.dtype([("inlined", "u1"), ("weight", ">f4"), ("df", ">u4"), ("minlength", "u1"),
                 ("maxlength", "u1"), ("maxweight", ">f4"), ("minid", ">u4"),
                 ("maxid", ">u4")])
_BYTE_LENGTHS = np.array(BYTE_LENGTHS, dtype=np.int64)
_HEAD = b"\x80\x04("  # protocol 4, the mark of the ids tuple
_TAIL = b"\x87."  # the three parts as one tuple, stop
# A position value: the 4-byte count, then pickle.dumps(deltas, 2) as this start ...
_VALUE_START = b"\x80\x02]q\x00"
_BATCH_APPENDS = 1000  # ... which changes its shape past this many items (pickle's batches)


def length_bytes(lengths: np.ndarray) -> np.ndarray:
    """Whoosh's ``length_to_byte`` of each length (0 for 0)."""
    codes = np.searchsorted(_BYTE_LENGTHS, lengths, side="left")
    return np.minimum(codes, 255)


def _int_sizes(values: np.ndarray) -> np.ndarray:
    """Bytes of each value as a pickle int opcode (values from 0 to 2**31 - 1)."""
    return np.where(values < 256, 2, np.where(values < 65536, 3, 5))


def _put_ints(out: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """Each value as a pickle int opcode at its offset in ``out``."""
    small = values < 256
    big = values >= 65536
    middle = ~small & ~big
    for mask, opcode, width in ((small, ord("K"), 1), (middle, ord("M"), 2), (big, ord("J"), 4)):
        where = at[mask]
        if not len(where):
            continue
        chosen = values[mask]
        out[where] = opcode
        for k in range(width):
            out[where + 1 + k] = (chosen >> (8 * k)) & 0xFF


def _starts(sizes: np.ndarray) -> np.ndarray:
    starts = np.cumsum(sizes, dtype=np.int64)
    starts -= sizes
    return starts


def _position_values(counts: np.ndarray, deltas: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Every posting's position value as a pickled byte string (``C`` and a 1-byte
    length, or ``B`` and a 4-byte one), one after another; and where each begins
    (one more entry for the end)."""
    n = len(counts)
    many = counts > 1
    too_many = counts > _BATCH_APPENDS  # pickled in batches: made by pickle itself
    int_sizes = _int_sizes(deltas)
    first = _starts(counts)
    summed = np.zeros(len(deltas) + 1, dtype=np.int64)
    np.cumsum(int_sizes, out=summed[1:])
    ints = summed[first + counts] - summed[first]
    sizes = 4 + len(_VALUE_START) + many + ints + 2
    special = {}
    for i in np.flatnonzero(too_many).tolist():
        c, d = int(first[i]), int(counts[i])
        special[i] = encode_positions(deltas[c:c + d].tolist())
        sizes[i] = len(special[i])
    headers = np.where(sizes < 256, 2, 5)
    total_sizes = headers + sizes
    begins = _starts(total_sizes)
    out = np.zeros(int(total_sizes.sum()), dtype=np.uint8)
    short = headers == 2
    out[begins[short]] = ord("C")
    out[begins[short] + 1] = sizes[short]
    long_ = ~short
    out[begins[long_]] = ord("B")
    for k in range(4):
        out[begins[long_] + 1 + k] = (sizes[long_] >> (8 * k)) & 0xFF
    value = begins + headers  # where the value itself begins
    for k in range(4):  # the count, big-endian
        out[value + k] = (counts >> (8 * (3 - k))) & 0xFF
    for k, byte in enumerate(_VALUE_START):
        out[value + 4 + k] = byte
    out[value[many] + 4 + len(_VALUE_START)] = ord("(")
    # each delta at its posting's start plus the deltas before it
    posting = np.repeat(np.arange(n, dtype=np.int64), counts)
    at = (value + 4 + len(_VALUE_START) + many)[posting] + summed[:-1] - summed[first][posting]
    regular = ~too_many[posting]
    _put_ints(out, at[regular], deltas[regular].astype(np.int64))
    end = value + sizes
    out[end - 2] = np.where(many, ord("e"), ord("a"))
    out[end - 1] = ord(".")
    for i, data in special.items():
        out[value[i]:value[i] + len(data)] = np.frombuffer(data, dtype=np.uint8)
    bounds = np.append(begins, len(out))
    return out.tobytes(), bounds


def write_postings(writer: TermWriter, terms: list[bytes], per_term: np.ndarray,
                   docs: np.ndarray, counts: np.ndarray, deltas: np.ndarray | None,
                   lengths: np.ndarray, rows: list, valueless: bool = False) -> None:
    """The posting lists of ``terms`` (in order; ``per_term`` postings each), written to
    ``writer``'s postings file as :meth:`.internals.TermWriter.write` writes them, and their rows of the term table appended to
    ``rows`` as ``(key, row)``.

    ``docs`` and ``counts`` hold every posting term after term (documents ascending
    within a term); ``deltas`` every posting's position deltas, posting after posting
    (``None`` for a field without positions: its values are the 4-byte counts, one
    byte string per block); ``lengths`` the (quantised) field length of each
    posting's document. Terms of at most ``INLINE_MAX`` postings are inlined into
    their rows. ``valueless``: postings without values (``Existence``: ids, dates,
    sources), every weight 1 (``counts`` all 1), none inlined.
    """
    if not len(terms):
        return
    postfile = writer.postfile
    limit = writer.blocklimit
    level = writer.compression
    prefix = pack_ushort(writer.fieldid)
    docs = docs.astype(np.int64)
    counts = counts.astype(np.int64)
    lengths = lengths.astype(np.int64)
    per_term = per_term.astype(np.int64)
    n = len(docs)
    term_of = np.repeat(np.arange(len(terms), dtype=np.int64), per_term)
    term_starts = _starts(per_term)
    rank = np.arange(n, dtype=np.int64) - term_starts[term_of]
    inline_term = per_term <= (0 if valueless else INLINE_MAX)
    inline = inline_term[term_of]
    group_start = rank % limit == 0  # a block, or an inlined term's postings
    starts = np.flatnonzero(group_start)
    ends = np.append(starts[1:], n)

    # ids: a block's first document, then the gaps; an inlined term's documents as they are
    previous = np.concatenate(([0], docs[:-1]))
    ids = np.where(group_start | inline, docs, docs - previous)
    id_sizes = _int_sizes(ids)
    id_at = _starts(id_sizes)
    id_buffer = np.zeros(int(id_sizes.sum()), dtype=np.uint8)
    _put_ints(id_buffer, id_at, ids)
    id_bytes = id_buffer.tobytes()
    id_bounds = np.append(id_at, len(id_buffer)).tolist()
    del id_buffer

    # weights: the frequencies as doubles, each behind its G opcode
    weight_records = np.empty(n, dtype=[("op", "u1"), ("value", ">f8")])
    weight_records["op"] = ord("G")
    weight_records["value"] = counts
    weight_bytes = weight_records.tobytes()
    del weight_records
    block_max = np.maximum.reduceat(counts, starts)
    block_min = np.minimum.reduceat(counts, starts)

    # values
    if deltas is not None:
        value_bytes, value_bounds = _position_values(counts, deltas.astype(np.int64))
        value_bounds = value_bounds.tolist()
    else:
        value_bytes = counts.astype(">u4").tobytes()
        # an inlined term's values: a tuple of 4-byte strings, each behind C and its length
        inline_records = np.empty(n, dtype=[("op", "u1"), ("size", "u1"), ("value", ">u4")])
        inline_records["op"] = ord("C")
        inline_records["size"] = 4
        inline_records["value"] = counts
        inline_value_bytes = inline_records.tobytes()
        del inline_records

    # lengths per block and per term (0: no document of it has a known length)
    known_min = np.where(lengths > 0, lengths, np.iinfo(np.int64).max)
    block_lmin = np.minimum.reduceat(known_min, starts)
    block_lmax = np.maximum.reduceat(lengths, starts)
    block_lmin_byte = np.where(block_lmin == np.iinfo(np.int64).max, 0,
                               length_bytes(np.minimum(block_lmin, 1 << 40))).tolist()
    block_lmax_byte = length_bytes(block_lmax).tolist()
    nonempty = per_term > 0
    term_rows = np.zeros(len(terms), dtype=_ROW)
    term_rows["inlined"] = inline_term
    term_rows["df"] = per_term
    firsts = term_starts[nonempty]
    term_rows["weight"][nonempty] = np.add.reduceat(counts, firsts)
    term_rows["maxweight"][nonempty] = np.maximum.reduceat(counts, firsts)
    term_lmin = np.minimum.reduceat(known_min, firsts)
    term_rows["minlength"][nonempty] = np.where(
        term_lmin == np.iinfo(np.int64).max, 0, length_bytes(np.minimum(term_lmin, 1 << 40)))
    term_rows["maxlength"][nonempty] = length_bytes(np.maximum.reduceat(lengths, firsts))
    term_rows["minid"][nonempty] = docs[firsts]
    term_rows["maxid"][nonempty] = docs[firsts + per_term[nonempty] - 1]
    row_bytes = term_rows.tobytes()
    del term_rows

    group_terms = term_of[starts].tolist()
    starts_list = starts.tolist()
    ends_list = ends.tolist()
    last_ids = docs[ends - 1].tolist()
    block_weights = block_max.astype(float).tolist()
    all_ones = (block_max == 1).tolist()
    all_same = (block_max == block_min).tolist()
    inline_list = inline_term.tolist()
    size = _ROW.itemsize
    offset = postfile.tell()
    chunks: list[bytes] = []
    written = 0
    g = 0
    groups = len(starts_list)
    while g < groups:
        term = group_terms[g]
        key = prefix + terms[term]
        info_row = row_bytes[term * size:(term + 1) * size]
        if inline_list[term]:
            a, b = starts_list[g], ends_list[g]
            weights = b"(" + weight_bytes[9 * a:9 * b] + b"t"
            if deltas is not None:
                values = b"(" + value_bytes[value_bounds[a]:value_bounds[b]] + b"t"
            else:
                values = b"(" + inline_value_bytes[6 * a:6 * b] + b"t"
            rows.append((key, info_row + _HEAD + id_bytes[id_bounds[a]:id_bounds[b]] + b"t"
                         + weights + values + _TAIL))
            g += 1
            continue
        begin = offset + written
        chunks.append(WHOOSH3_HEADER_MAGIC)
        written += len(WHOOSH3_HEADER_MAGIC)
        while g < groups and group_terms[g] == term:
            a, b = starts_list[g], ends_list[g]
            if all_ones[g]:
                weights = b"N"
            elif all_same[g]:
                weights = weight_bytes[9 * a:9 * a + 9]
            else:
                weights = b"(" + weight_bytes[9 * a:9 * b] + b"t"
            if deltas is not None:
                values = b"(" + value_bytes[value_bounds[a]:value_bounds[b]] + b"t"
            elif valueless:
                values = b"N"
            else:
                values = _short_bytes(value_bytes[4 * a:4 * b])
            data = b"".join((_HEAD, id_bytes[id_bounds[a]:id_bounds[b]], b"t", weights, values,
                             _TAIL))
            compression = 0
            if len(data) >= COMPRESS_MIN_BYTES:
                compression = level
                data = compress_block(data, level)
            info = pickle.dumps((b - a, last_ids[g], block_weights[g], compression,
                                 block_lmin_byte[g], block_lmax_byte[g]), 2)
            g += 1
            last = g >= groups or group_terms[g] != term
            block = len(info) + len(data)
            chunks.append(pack_int(-block if last else block))
            chunks.append(info)
            chunks.append(data)
            written += 4 + block
        rows.append((key, info_row + pack_long(begin) + pack_int(offset + written - begin)))
    postfile.write(b"".join(chunks))


def _short_bytes(data: bytes) -> bytes:
    """``data`` as a pickled byte string."""
    if len(data) < 256:
        return b"C" + bytes((len(data),)) + data
    return b"B" + len(data).to_bytes(4, "little") + data
