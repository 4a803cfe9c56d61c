"""Everything of whoosh-reloaded that newssearch uses below its public API.

The fast paths read Whoosh's posting blocks, term infos and length columns
directly (:mod:`.postings`: decoding a term's blocks into arrays is most of the
cost of a query, and Whoosh's matchers do it one posting at a time), and the
segment builder writes the same structures itself (:mod:`.segments`: Whoosh's
writer pickles every posting through a pool of tuples). Both depend on how
whoosh-reloaded 2.7.5 lays out its files and on private attributes of its
objects, which another release may change without notice; this module is the
only one that touches them (:mod:`.blocks` writes the blocks and rows of
:class:`TermWriter` from arrays, through its public attributes and the names
here). Every other module uses Whoosh's public API and
the named functions here.

Importing this module checks the installed whoosh-reloaded and raises
:class:`UnsupportedWhoosh`, saying which version is needed
(``REQUIRED_VERSION``, the pin of ``pyproject.toml``), when another one is
installed. To move to another release: change the pin and this constant, then
run ``test_compact_postings.py``, ``test_block_skipping.py`` and
``test_perf_equivalence.py`` of ``tests/integration``, which compare every path
here with Whoosh's own readers and writer.

What is read or written here:

* **Posting blocks** (W3 codec): a term's postings are a run of blocks, each a
  4-byte signed length (negative for the last block), a pickled info tuple
  ``(count, last id, max weight, compression, min length, max length)`` and
  the block's data, a pickled ``(id deltas, weights, values)`` tuple,
  zlib-compressed when ``compression`` is set.
* **Term infos**: a term's row in the term table, the ``W3TermInfo`` struct
  (inlined flag first), then either the inlined postings pickled or the
  offset (8 bytes) and length (4 bytes) of its blocks in the postings file.
  Rows go into Whoosh's ``OrderedHashWriter`` with its MD5 buckets.
* **Positions values**: the count (4 bytes), then the position deltas as a
  protocol 2 pickle of a list of ints; read here with numpy, all values at
  once, by their pickle opcodes.
* **Private attributes**: a leaf matcher's postings file and offsets, a field
  writer's files and codec parameters, a reader's per-document reader (its
  length columns), BM25F's per-field ``B``, a term range's terms, the hook by
  which a numeric range names its terms, a per-document writer's column writers
  (a column written whole at the end of a build, :func:`write_column`; a
  document's stored fields written as made ahead, :func:`add_stored_bytes`).
* **Stored fields**: the ``_stored`` column holds each document's dict of stored
  values pickled and deflated; Whoosh's writer pickles with protocol 2 and
  deflates at level 3, its reader inflates and unpickles whatever it finds.
  :func:`stored_bytes` pickles with protocol 4 and deflates at level
  ``STORED_LEVEL`` (6), in the worker processes that prepare the articles: on
  all FANG articles the column takes 82 MB instead of 85 MB, and the indexing
  process no longer pickles and deflates 170 MB of text itself.
"""

from __future__ import annotations

import mmap
import pickle
import struct
import zlib
from hashlib import md5
from importlib import metadata
from io import BytesIO
from itertools import chain
from pickle import load as pickle_load, loads

import numpy as np

DISTRIBUTION = "whoosh-reloaded"
# The version whose files and objects this module knows (the pin in pyproject.toml).
REQUIRED_VERSION = "2.7.5"


class UnsupportedWhoosh(ImportError):
    """The installed whoosh-reloaded is not the version this module reads and writes."""


def installed_version() -> str | None:
    """The version of the installed whoosh-reloaded distribution, or None."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def check_version(found: str | None) -> None:
    """Raise :class:`UnsupportedWhoosh` unless ``found`` is ``REQUIRED_VERSION``."""
    if found == REQUIRED_VERSION:
        return
    what = f"{DISTRIBUTION} {found} is installed" if found is not None else \
        f"{DISTRIBUTION} is not installed (the 'whoosh' package found belongs to another " \
        f"distribution)"
    raise UnsupportedWhoosh(
        f"newssearch needs {DISTRIBUTION} {REQUIRED_VERSION} exactly: it reads and writes "
        f"that version's posting blocks and term tables directly "
        f"(search/backends/whoosh/internals.py), but {what}. "
        f"Install it with: pip install '{DISTRIBUTION}=={REQUIRED_VERSION}'")


check_version(installed_version())

# Imported once the version is known to be the one these names belong to.
from whoosh import query as wq  # noqa: E402
from whoosh import scoring  # noqa: E402
from whoosh.codec.whoosh3 import (LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC,  # noqa: E402
                                  W3LeafMatcher, W3TermInfo)
from whoosh.filedb.structfile import StructFile  # noqa: E402
from whoosh.system import pack_int, pack_long, pack_ushort, unpack_int, unpack_long  # noqa: E402

from ...ranking.lengths import length_to_byte  # noqa: E402

# -- readers -------------------------------------------------------------------------


class _MappedFile(StructFile):
    """A segment's term table file whose positioned reads (``get`` and the ``get_*``
    built on it) are slices of a read-only memory map instead of a seek and a read;
    everything else (sequential reads of the lexicon) goes to the file as before."""

    def __init__(self, original: StructFile, mapped: mmap.mmap):
        self.__dict__.update(original.__dict__)
        self._mapped = mapped

    def get(self, position, length):
        return self._mapped[position:position + length]

    def close(self):
        self._mapped.close()
        super().close()


_POINTER = struct.Struct("!Iq")  # filetables' slot: key hash, item position
_LENGTHS = struct.Struct("!ii")  # filetables' item: key length, value length


def map_term_table(reader) -> bool:
    """Read the term table of a segment reader through a memory map: its look-ups (each
    term's document frequency and info while a query is compiled and scored, a few
    dozen a query) follow Whoosh's hash table (``filetables.HashReader``: MD5 buckets
    of ``(hash, position)`` slots) by ``struct.unpack_from`` on the map instead of four
    seeks and reads through Whoosh's file object each. The same bytes are read, so the
    same answers. False when the reader's table is not a plain file of its own (then
    it is read as before)."""
    terms = getattr(reader, "_terms", None)
    table = getattr(terms, "_tindex", None)
    dbfile = getattr(table, "dbfile", None)
    if (type(dbfile) is not StructFile or getattr(terms, "_dbfile", None) is not dbfile
            or table.startoffset != 0 or isinstance(table.ranges_for_key, _FastRanges)):
        return False
    try:
        mapped = mmap.mmap(dbfile.file.fileno(), 0, access=mmap.ACCESS_READ)
    except (AttributeError, OSError, ValueError):
        return False
    wrapped = _MappedFile(dbfile, mapped)
    terms._dbfile = table.dbfile = wrapped
    table.ranges_for_key = _FastRanges(table, mapped)
    return True


class _FastRanges:
    """``HashReader.ranges_for_key`` of one table, on its memory map (the same walk
    over the same slots)."""

    __slots__ = ("hashfn", "tables", "mapped")

    def __init__(self, table, mapped):
        self.hashfn = table.hashfn
        self.tables = table.tables
        self.mapped = mapped

    def __call__(self, key):
        if not isinstance(key, bytes):
            raise TypeError("Key %r should be bytes" % key)
        keyhash = self.hashfn(key)
        tablestart, numslots = self.tables[keyhash & 255]
        if not numslots:
            return
        mapped = self.mapped
        unpack_pointer, unpack_lengths = _POINTER.unpack_from, _LENGTHS.unpack_from
        size = _POINTER.size
        end = tablestart + numslots * size
        slotpos = tablestart + ((keyhash >> 8) % numslots) * size
        for _ in range(numslots):
            slothash, itempos = unpack_pointer(mapped, slotpos)
            if not itempos:
                return
            if slothash == keyhash:
                keylen, datalen = unpack_lengths(mapped, itempos)
                if keylen == len(key):
                    keystart = itempos + _LENGTHS.size
                    if mapped[keystart:keystart + keylen] == key:
                        yield keystart + keylen, datalen
            slotpos += size
            if slotpos == end:
                slotpos = tablestart


def length_column(reader, field: str):
    """The column of a segment's one-byte lengths of ``field`` (``column[docnum]`` is a
    byte of :mod:`search.ranking.lengths`), or None when the reader has none."""
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is None or not hasattr(perdoc, "_cached_reader"):
        return None
    return perdoc._cached_reader("_%s_len" % field, LENGTHS_COLUMN)


def average_field_length(searcher, field: str) -> float:
    """``searcher.avg_field_length(field)``, remembered on the searcher (its readers and
    their lengths do not change; Whoosh sums them over every segment at each call)."""
    found = searcher.__dict__.setdefault("_newssearch_average_lengths", {})
    value = found.get(field)
    if value is None:
        value = found[field] = searcher.avg_field_length(field)
    return value


# -- queries and scoring ---------------------------------------------------------------


def bm25f_parameters(weighting, field: str) -> tuple[float, float] | None:
    """``(B, K1)`` of ``field`` when ``weighting`` is Whoosh's BM25F, else None."""
    if type(weighting) is not scoring.BM25F:
        return None
    return weighting._field_B.get(field, weighting.B), weighting.K1


def range_terms(query: wq.TermRange, reader):
    """The terms (bytes) a term range matches in ``reader``."""
    return query._btexts(reader)


def numeric_range_query(query: wq.NumericRange, reader):
    """The query of the terms a numeric range stands for in ``reader``'s index."""
    return query._compile_query(reader)


class TermsOfRange(wq.NumericRange):
    """A numeric range whose terms a subclass names in :meth:`terms_query` (Whoosh asks a
    numeric range for them through a private hook)."""

    def terms_query(self, ixreader):
        raise NotImplementedError

    def _compile_query(self, ixreader):
        return self.terms_query(ixreader)


# -- posting blocks ----------------------------------------------------------------------


def block_leaf(matcher):
    """The W3 leaf matcher behind ``matcher`` (deletions wrap it in a filter) when it reads
    the term's postings from posting blocks of integer ids; None otherwise (inlined
    postings, or another matcher)."""
    leaf = getattr(matcher, "child", matcher)
    if type(leaf) is W3LeafMatcher and not leaf._byteids:
        return leaf
    return None


def leaf_postfile(leaf: W3LeafMatcher):
    """The postings file a leaf matcher reads (``get(offset, length)`` gives bytes)."""
    return leaf._postfile


def leaf_block_headers(leaf: W3LeafMatcher):
    """``(last docnums, data offsets, data lengths, compressed, data)`` of each posting
    block of a leaf matcher, read from each block's 4-byte length and small pickled info
    tuple: the term's postings are read at once (``data``, from the offset of the first
    block; None when they were read block by block) and the blocks' data are not
    decompressed."""
    postfile = leaf._postfile
    base = leaf._baseoffset
    length = leaf._length
    if isinstance(length, tuple) and len(length) == 1:
        length = length[0]  # how the segment builder's term infos hold it
    if not isinstance(length, int):
        return _leaf_headers_one_by_one(leaf)
    size = leaf._startoffset + length - base
    buf = postfile.get(base, size)
    stream = BytesIO(buf)
    lasts, offsets, lengths, compressed = [], [], [], []
    position = 0
    while True:
        if position + 4 > size:
            return _leaf_headers_one_by_one(leaf)
        length = unpack_int(buf[position:position + 4])[0]
        stream.seek(position + 4)
        info = pickle_load(stream)
        at = stream.tell()
        end = position + 4 + abs(length)
        if end > size:
            return _leaf_headers_one_by_one(leaf)
        lasts.append(info[1])
        offsets.append(base + at)
        lengths.append(end - at)
        compressed.append(bool(info[3]))
        if length < 0:  # the last block
            break
        position = end
    return lasts, offsets, lengths, compressed, buf


def _leaf_headers_one_by_one(leaf: W3LeafMatcher):
    """:func:`leaf_block_headers` read block by block by the matcher itself."""
    lasts, offsets, lengths, compressed = [], [], [], []
    position = leaf._baseoffset
    try:
        while True:
            leaf._goto(position)
            lasts.append(leaf._maxid)
            offsets.append(leaf._dataoffset)
            lengths.append(leaf._nextoffset - leaf._dataoffset)
            compressed.append(bool(leaf._compression))
            if leaf._lastblock:
                break
            position = leaf._nextoffset
    finally:
        leaf.reset()
    return lasts, offsets, lengths, compressed, None


def leaf_blocks(leaf: W3LeafMatcher):
    """Each posting block of a leaf matcher as ``(count, ids, weights, values)``,
    decompressed and unpickled: ids are the block's docnum deltas (its first is the
    block's first docnum), weights ``None`` (all 1), one float for the block or one
    per posting, values one per posting (None for a field without values)."""
    _, offsets, lengths, compressed, buf = leaf_block_headers(leaf)
    if buf is None:
        return read_blocks(leaf._postfile, offsets, lengths, compressed, range(len(offsets)))
    return _blocks_in(memoryview(buf), leaf._baseoffset, offsets, lengths, compressed)


def _blocks_in(view, base, offsets, lengths, compressed):
    """The blocks of a term's postings read at once (``view``, from offset ``base``),
    one by one (a block's Python lists are dropped as soon as it is converted)."""
    for offset, length, packed in zip(offsets, lengths, compressed):
        data = view[offset - base:offset - base + length]
        ids, weights, values = loads(zlib.decompress(data) if packed else data)
        yield len(ids), ids, weights, values


def read_blocks(postfile, offsets, lengths, compressed, chosen) -> list:
    """The blocks numbered ``chosen`` of a term (see :func:`leaf_block_headers`), decoded
    as :func:`leaf_blocks` decodes them."""
    blocks = []
    for i in (chosen.tolist() if isinstance(chosen, np.ndarray) else chosen):
        data = postfile.get(offsets[i], lengths[i])
        if compressed[i]:
            data = zlib.decompress(data)
        ids, weights, values = loads(data)
        blocks.append((len(ids), ids, weights, values))
    return blocks


# -- positions values ----------------------------------------------------------------------

_PACK_UINT = struct.Struct("!I").pack


def encode_positions(deltas: list[int]) -> bytes:
    """Whoosh's ``Positions`` value: the count, then the pickled position deltas."""
    return _PACK_UINT(len(deltas)) + pickle.dumps(deltas, 2)


# The value of one position below 4096 (most postings of a text field hold one).
ONE_POSITION = [encode_positions([p]) for p in range(4096)]


def pack_count(count: int) -> bytes:
    """The value of a posting of a field without positions: its frequency, 4 bytes."""
    return _PACK_UINT(count)


def position_deltas(values) -> tuple[np.ndarray, np.ndarray]:
    """``(sizes, deltas)``: how many positions each of Whoosh's Positions ``values``
    holds, and their deltas run together. A value is the count (4 bytes), then the
    pickled list of deltas (its final STOP may have been left off)."""
    found = parse_position_deltas(values) if len(values) >= 16 else None
    if found is not None:
        return found
    deltas = [loads(v[4:] if v.endswith(b".") else v[4:] + b".") for v in values]
    sizes = np.fromiter(map(len, deltas), dtype=np.int64, count=len(deltas))
    flat = np.fromiter(chain.from_iterable(deltas), dtype=np.int64, count=int(sizes.sum()))
    return sizes, flat


# The opcodes of a protocol 2 pickle of a list of small ints, as Whoosh writes a value:
# PROTO 2, EMPTY_LIST, BINPUT 0, then one int and APPEND, or MARK, the ints and APPENDS;
# an int is BININT1 (1 byte), BININT2 (2 bytes) or BININT (4 bytes, signed).
_VALUE_HEAD = np.frombuffer(b"\x80\x02]q\x00", dtype=np.uint8)
_INT_WIDTH = np.full(256, -1, dtype=np.int64)
_INT_WIDTH[ord("K")], _INT_WIDTH[ord("M")], _INT_WIDTH[ord("J")] = 1, 2, 4


def parse_position_deltas(values) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`position_deltas` read with numpy, all values at once; None for any value
    not of that exact form (another protocol, a long int, a list in several batches,
    a count that does not match), which are then unpickled one by one."""
    count = len(values)
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=count)
    if lengths.min() < 12:
        return None
    buf = np.frombuffer(b"".join(values) + b"\x00" * 8, dtype=np.uint8)
    starts = np.zeros(count, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    ends = starts + lengths
    for k, byte in enumerate(_VALUE_HEAD):
        if not (buf[starts + 4 + k] == byte).all():
            return None
    head = buf[(starts[:, None] + np.arange(4)).ravel()].reshape(count, 4).astype(np.int64)
    sizes = (head[:, 0] << 24) | (head[:, 1] << 16) | (head[:, 2] << 8) | head[:, 3]
    if sizes.min() < 1:
        return None
    several = sizes > 1
    if not (buf[starts[several] + 9] == ord("(")).all():
        return None
    total = int(sizes.sum())
    firsts = np.zeros(count, dtype=np.int64)
    np.cumsum(sizes[:-1], out=firsts[1:])
    ops = np.empty(total, dtype=np.int64)  # where each int's opcode is
    at = starts + 9 + several
    active = np.arange(count, dtype=np.int64)
    step = 0
    while len(active):
        ops[firsts[active] + step] = at
        width = _INT_WIDTH[buf[at]]
        if (width < 0).any():
            return None
        at = at + 1 + width
        step += 1
        going = sizes[active] > step
        done, last = active[~going], at[~going]
        if len(done):
            # after the last int: APPEND or APPENDS, then STOP or the value's end
            closing = np.where(sizes[done] > 1, ord("e"), ord("a"))
            if not (buf[last] == closing).all():
                return None
            tail = ends[done] - last
            if not ((tail == 1) | ((tail == 2) & (buf[np.minimum(last + 1, len(buf) - 1)]
                                                  == ord(".")))).all():
                return None
        active, at = active[going], at[going]
    kinds = buf[ops]
    one, two = buf[ops + 1].astype(np.int64), buf[ops + 2].astype(np.int64)
    three, four = buf[ops + 3].astype(np.int64), buf[ops + 4].astype(np.int64)
    flat = np.where(kinds == ord("K"), one,
                    np.where(kinds == ord("M"), one | (two << 8),
                             (one | (two << 8) | (three << 16) | (four << 24))
                             .astype(np.uint32).astype(np.int32).astype(np.int64)))
    return sizes, flat


# -- writing terms ---------------------------------------------------------------------

_INFO = W3TermInfo._struct.pack
# The pickle protocol of posting blocks and inlined postings. Whoosh writes protocol 2,
# which stores each position value (bytes) as a call to ``_codecs.encode`` on a str:
# protocol 4 stores them as bytes, which makes a positional block about 40 % as large
# once compressed and ten times faster to pickle and to unpickle. Readers take any
# protocol (Whoosh's reader calls ``pickle.loads``).
BLOCK_PICKLE = 4
# Blocks whose pickled data is shorter than this are stored uncompressed: zlib
# would make them longer (and costs a stream set-up per call). The block header
# records the choice, as Whoosh's reader expects.
COMPRESS_MIN_BYTES = 96
# Terms of at most this many postings keep them in the term table (see TermWriter.write).
INLINE_MAX = 2
_LENGTHS = struct.Struct("!ii")


def compress_block(data: bytes, level: int) -> bytes:
    """zlib data that ``zlib.decompress`` reads. ``zlib.compress`` with its default
    window: on 11,654 blocks of a FANG build (873 bytes each on average) it took 0.49 s
    and made 2.85 MB, where a compressor object with a 4 KB window and the least memory
    (``compressobj(level, DEFLATED, 12, 2)``) took 0.57 s and made 2.91 MB."""
    return zlib.compress(data, level)


class TermWriter:
    """Writes the posting lists of one field as Whoosh's W3 codec writes them: the blocks
    into a postings file, each term's row into a list for :func:`add_term_rows`."""

    def __init__(self, postfile, fieldid: int, blocklimit: int, compression: int):
        self.postfile = postfile
        self.fieldid = fieldid
        self.blocklimit = blocklimit
        self.compression = compression

    @classmethod
    def of(cls, fieldwriter) -> "TermWriter":
        """The writer of the field ``fieldwriter`` has started, into its postings file."""
        return cls(fieldwriter._postfile, fieldwriter._fieldid, fieldwriter._codec._blocklimit,
                   fieldwriter._codec._compression)

    def to(self, handle) -> "TermWriter":
        """A writer of the same field whose blocks go to the file ``handle``."""
        return TermWriter(handle, self.fieldid, self.blocklimit, self.compression)

    def write(self, btext: bytes, docs, weights, values, lengths, rows, joined=False,
              inline=False) -> None:
        """One term's posting list.

        Blocks of ``blocklimit`` postings, each a pickled ``(id deltas, weights,
        values)`` tuple behind a pickled info tuple, then the term's row in the
        term table (appended to ``rows``), with the same statistics
        ``W3PostingsWriter`` and ``W3TermInfo`` compute. ``joined``: the values
        have a fixed size and a block holds them as one byte string (a field
        without positions). ``inline``: a term of at most ``INLINE_MAX`` postings
        keeps them in its row instead (W3's inlined postings, which Whoosh reads
        with a ``ListMatcher``): a posting block costs about a hundred bytes, most
        of them headers.
        """
        key = pack_ushort(self.fieldid) + btext
        if inline and len(docs) <= INLINE_MAX and values:
            known = [n for n in lengths if n]
            weight_sum = 0.0 + sum(weights)
            row = _INFO(True, weight_sum, len(docs), length_to_byte(min(known)) if known else 0,
                        length_to_byte(max(known) if known else 0), max(0, max(weights)),
                        docs[0], docs[-1])
            row += pickle.dumps((tuple(docs), tuple(weights), tuple(values)), BLOCK_PICKLE)
            rows.append((key, row))
            return
        postfile = self.postfile
        offset = postfile.tell()
        chunks = [WHOOSH3_HEADER_MAGIC]
        total = len(docs)
        limit = self.blocklimit
        weight_sum = 0.0
        max_weight = 0
        min_length = None
        max_length = 0
        dumps = pickle.dumps
        for begin in range(0, total, limit):
            end = min(total, begin + limit)
            ids = docs[begin:end]
            block_weights = weights[begin:end]
            first = block_weights[0]
            if all(w == 1.0 for w in block_weights):
                mini_weights = None
            elif all(w == first for w in block_weights):
                mini_weights = float(first)
            else:
                mini_weights = tuple(block_weights)
            deltas = [ids[0]]
            deltas.extend([b - a for a, b in zip(ids, ids[1:])])
            if not values:
                block_values = None
            elif joined:
                block_values = b"".join(values[begin:end])
            else:
                block_values = tuple(values[begin:end])
            data = dumps((tuple(deltas), mini_weights, block_values), BLOCK_PICKLE)
            compression = 0
            if len(data) >= COMPRESS_MIN_BYTES:
                compression = self.compression
                data = compress_block(data, compression)
            known = [n for n in lengths[begin:end] if n]
            block_min = min(known) if known else None
            block_max = max(known) if known else 0
            block_weight = max(0, max(block_weights))
            info = dumps((end - begin, ids[-1], block_weight, compression,
                          length_to_byte(block_min), length_to_byte(block_max)), 2)
            size = len(info) + len(data)
            chunks.append(pack_int(-size if end == total else size))
            chunks.append(info)
            chunks.append(data)
            weight_sum += sum(block_weights)
            if block_weight > max_weight:
                max_weight = block_weight
            if block_min is not None and (min_length is None or block_min < min_length):
                min_length = block_min
            if block_max > max_length:
                max_length = block_max
        postfile.write(b"".join(chunks))
        row = _INFO(False, weight_sum, total,
                    0 if min_length is None else length_to_byte(min_length),
                    length_to_byte(max_length), max_weight, docs[0], docs[-1])
        row += pack_long(offset) + pack_int(postfile.tell() - offset)
        rows.append((key, row))


def listed_offsets(rows) -> list[int]:
    """The offsets in the postings file of the terms of ``rows`` (``(key, row)`` of
    :meth:`TermWriter.write`) whose postings are not inlined, in order."""
    # a row's first byte is its "inlined" flag; a listed row ends with the offset of
    # its postings (8 bytes) and their length (4 bytes)
    return [unpack_long(row[-12:-4])[0] for _, row in rows if row[0] == 0]


def moved_rows(rows, shift: int) -> list:
    """``rows`` of postings written to another file, once that file's blocks are
    appended to the postings file ``shift`` bytes in."""
    return [(key, row[:-12] + pack_long(unpack_long(row[-12:-4])[0] + shift) + row[-4:])
            if row[0] == 0 else (key, row) for key, row in rows]


def add_term_rows(fieldwriter, rows) -> None:
    """``add(key, value)`` of the field writer's term table for each row, in one write:
    the rows, their lengths, MD5 hash buckets and key positions exactly as Whoosh's
    ``OrderedHashWriter`` keeps them."""
    if not rows:
        return
    tindex = fieldwriter._tindex
    dbfile = tindex.dbfile
    position = dbfile.tell()
    buckets = tindex.buckets
    append_position = tindex.index.append
    pack = _LENGTHS.pack
    last = tindex.lastkey
    chunks = []
    for key, value in rows:
        if key <= last:
            raise ValueError(f"Keys must increase: {last!r}..{key!r}")
        append_position(position)
        # whoosh.filedb.filetables.md5_hash: the low 32 bits of the key's MD5
        digest = int.from_bytes(md5(key, usedforsecurity=False).digest()[12:], "big")
        buckets[digest & 255].append((digest, position))
        chunks.append(pack(len(key), len(value)))
        chunks.append(key)
        chunks.append(value)
        position += 8 + len(key) + len(value)
        last = key
    dbfile.write(b"".join(chunks))
    tindex.lastkey = last


STORED_LEVEL = 6


def stored_bytes(values: dict) -> bytes:
    """A document's stored fields as the ``_stored`` column holds them (see above)."""
    return zlib.compress(pickle.dumps(values, protocol=4), STORED_LEVEL)


def add_stored_bytes(perdoc, docnum: int, data: bytes) -> None:
    """Write document ``docnum``'s stored fields made by :func:`stored_bytes` (the
    document's own ``add_field`` calls got no stored values) into the ``_stored``
    column, past the column's own pickling and deflating."""
    from whoosh.columns import VarBytesColumn

    pickling = perdoc._get_column("_stored")  # PickleColumn.Writer
    deflating = pickling._child  # CompressedBytesColumn.Writer
    VarBytesColumn.Writer.add(deflating, docnum, data)


def write_column(perdoc, name: str, column, values) -> None:
    """Write the column ``name`` of a segment whole, into its per-document writer before
    it is closed: ``values`` are ``(docnum, column value)`` in docnum order, documents
    left out get the column's default. (Whoosh's own ``add_column_value`` writes to the
    document being added only; a near-duplicate cluster is known after the last one.)"""
    perdoc._create_column(name, column)
    writer = perdoc._get_column(name)
    for docnum, value in values:
        writer.add(docnum, value)
