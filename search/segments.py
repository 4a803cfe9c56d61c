"""Writing Whoosh segments fast, from term lists made ahead of time.

Whoosh's own writer sends every posting through a pool of tuples that it
pickles to temporary runs and merges back, which is most of its build time.
:class:`SegmentBuilder` keeps the postings of the text fields in flat arrays
instead (term number, document, frequency, positions), sorts them once with
numpy and writes each term's blocks in Whoosh's W3 format (same codec, same
block layout, same statistics), so every Whoosh reader reads them unchanged; only
the blocks are pickled with a later protocol (see ``BLOCK_PICKLE``).

Per-document data (stored fields, lengths, columns) goes through Whoosh's
per-document writer, field for field as ``SegmentWriter.add_document`` does.
When the postings reach the memory budget, the segment is finished and a new
one begun; :meth:`finish` returns the segments for the index's table of contents.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import struct
import tempfile
import traceback
from array import array
from hashlib import md5
from itertools import repeat

import zlib

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.system import pack_int, pack_long, pack_ushort, unpack_long
from whoosh.util.numeric import byte_to_length, length_to_byte

# Bytes one posting costs at the peak: its arrays and sort temporaries in the process
# writing a full segment (about 70, measured at 100,000 articles), while the indexer
# fills the next segment's arrays (about 17), with a margin.
POSTING_BYTES = 100
_BATCH = 250_000  # postings turned into Python lists at a time while writing
_PACK_UINT = struct.Struct("!I").pack


def encode_positions(deltas: list[int]) -> bytes:
    """Whoosh's ``Positions`` value: the count, then the pickled position deltas."""
    return _PACK_UINT(len(deltas)) + pickle.dumps(deltas, 2)


_SINGLE = [encode_positions([p]) for p in range(4096)]


def group_positions(terms: list[str]) -> tuple[list[str], list[int], list[int]]:
    """``(distinct terms, counts, positions grouped by term)`` of one field's term list."""
    where: dict[str, list[int]] = {}
    for position, term in enumerate(terms):
        found = where.get(term)
        if found is None:
            where[term] = [position]
        else:
            found.append(position)
    flat: list[int] = []
    for positions in where.values():
        flat.extend(positions)
    return list(where), [len(p) for p in where.values()], flat


class _TextPostings:
    """The postings of one text field, in flat arrays (positions only for a field
    that keeps them)."""

    def __init__(self, positional: bool = True):
        self.positional = positional
        self.term_ids: dict[str, int] = {}
        self.tids = array("I")
        self.docs = array("I")
        self.counts = array("I")
        self.positions = array("I")

    def add(self, docnum: int, terms: list[str], counts: list[int], flat: list[int]) -> None:
        ids = self.term_ids
        get = ids.get
        tids = []
        for term in terms:
            tid = get(term)
            if tid is None:
                tid = ids[term] = len(ids)
            tids.append(tid)
        self.tids.extend(tids)
        self.docs.extend(repeat(docnum, len(terms)))
        self.counts.extend(counts)
        if self.positional:
            self.positions.extend(flat)

    def __len__(self):
        return len(self.tids)


class SegmentBuilder:
    """Builds segments of one Whoosh index; see the module's text."""

    def __init__(self, ix, positional_fields: tuple[str, ...], memory_mb: int = 512,
                 split_writes: bool = True):
        self.ix = ix
        self.storage = ix.storage
        self.schema = ix.schema
        self.codec = None
        self.positional = positional_fields
        self.budget = max(100_000, memory_mb * 1024 * 1024 // POSTING_BYTES)
        self.segments = []
        self.base = 0  # documents in the finished segments
        self._writer_pid: int | None = None  # the process writing a segment in the background
        # The last segment's text postings are written by two processes (see flush).
        self.split_writes = split_writes and hasattr(os, "fork")
        self._start()

    def _start(self):
        from whoosh.codec import default_codec

        self.codec = default_codec()
        self.segment = None
        self.perdoc = None
        self.docnum = 0
        self.deleted: set[int] = set()
        self.text = {name: _TextPostings(self.schema[name].format.supports("positions"))
                     for name in self.positional}
        self.lengths = {name: array("I") for name in self.positional}
        self.other: dict[tuple[str, bytes], list] = {}

    @property
    def postings(self) -> int:
        return sum(len(p) for p in self.text.values())

    @property
    def docnum_total(self) -> int:
        """The index-wide number the next document gets."""
        return self.base + self.docnum

    def delete(self, docnum_total: int) -> None:
        """Mark a document added earlier as deleted (a later one replaced it)."""
        if docnum_total >= self.base:
            self.deleted.add(docnum_total - self.base)
            return
        offset = 0
        for segment in self.segments:
            if docnum_total < offset + segment.doc_count_all():
                segment.delete_document(docnum_total - offset)
                return
            offset += segment.doc_count_all()

    def cancel(self) -> None:
        if self._writer_pid is not None:
            try:
                os.kill(self._writer_pid, signal.SIGKILL)
                os.waitpid(self._writer_pid, 0)
            except OSError:
                pass
            self._writer_pid = None
        if self.perdoc is not None and not self.perdoc.is_closed:
            try:
                self.perdoc.close()
            except Exception:
                pass

    def add(self, fields: dict, grouped: dict) -> None:
        """One document: ``fields`` as for ``add_document``; ``grouped`` holds, for each
        positional field, ``(terms, counts, positions)`` from :func:`group_positions`."""
        schema = self.schema
        if self.perdoc is None:
            self.segment = self.codec.new_segment(self.storage, self.ix.indexname)
            self.perdoc = self.codec.per_document_writer(self.storage, self.segment)
        perdoc = self.perdoc
        docnum = self.docnum
        perdoc.start_doc(docnum)
        for name in sorted(n for n in fields if not n.startswith("_")):
            value = fields[name]
            if value is None:
                continue
            field = schema[name]
            length = 0
            if name in self.text:
                terms, counts, flat = grouped[name]
                self.text[name].add(docnum, terms, counts, flat)
                length = len(flat) if flat is not None else sum(counts)
            elif field.indexed:
                other = self.other
                for tbytes, freq, weight, vbytes in field.index(value):
                    if field.scorable:
                        length += freq
                    key = (name, tbytes)
                    entry = other.get(key)
                    if entry is None:
                        other[key] = [(docnum, weight * 1.0, vbytes)]
                    else:
                        entry.append((docnum, weight * 1.0, vbytes))
            stored = fields.get("_stored_" + name, value)
            perdoc.add_field(name, field, stored if field.stored else None, length)
            column = field.column_type
            if column and stored is not None:
                perdoc.add_column_value(name, column, field.to_column_value(stored))
        perdoc.finish_doc()
        for name in self.positional:
            lengths = self.lengths[name]
            group = grouped.get(name) if fields.get(name) is not None else None
            if not group:
                lengths.append(0)
            else:
                lengths.append(len(group[2]) if group[2] is not None else sum(group[1]))
        self.docnum += 1
        if self.postings >= self.budget:
            self.flush(background=True)

    # -- writing ---------------------------------------------------------------

    def flush(self, background: bool = False) -> None:
        """Finish the current segment (if it holds documents) and begin another.

        With ``background``, the segment's postings are written by a forked
        process while this one goes on adding documents to the next segment
        (one such writer at a time; :meth:`finish` waits for it).
        """
        if self.docnum == 0:
            return
        self.perdoc.close()
        segment = self.segment
        segment.set_doc_count(self.docnum)
        for docnum in sorted(self.deleted):
            segment.delete_document(docnum)
        self.wait()
        if background and hasattr(os, "fork"):
            pid = os.fork()
            if pid == 0:  # the writer: write, then leave without running any cleanup
                status = 1
                try:
                    _die_with_parent()
                    self.split_writes = False
                    self._write_postings(segment)
                    status = 0
                except BaseException:
                    traceback.print_exc()
                finally:
                    os._exit(status)
            self._writer_pid = pid
        else:
            self._write_postings(segment)
        self.segments.append(segment)
        self.base += self.docnum
        self.text = self.other = self.lengths = None
        self._start()

    def wait(self) -> None:
        """Wait for the segment being written in the background, if any."""
        pid, self._writer_pid = self._writer_pid, None
        if pid is not None:
            _, status = os.waitpid(pid, 0)
            if status != 0:
                raise RuntimeError(f"writing an index segment failed (status {status})")

    def _write_postings(self, segment) -> None:
        fieldwriter = self.codec.field_writer(self.storage, segment)
        names = sorted(set(self.text) | {name for name, _ in self.other})
        for name in names:
            if name in self.text:
                if len(self.text[name]):
                    self._write_text_field(fieldwriter, name)
            else:
                self._write_other_field(fieldwriter, name)
        fieldwriter.close()

    def finish(self) -> list:
        self.wait()
        self.flush()
        return self.segments

    def _write_frequency_field(self, fieldwriter, name: str) -> None:
        """A text field without positions: each posting's value is its frequency."""
        postings = self.text[name]
        fieldwriter.start_field(name, self.schema[name])
        rows: list = []
        terms, per_term, order = _terms_in_order(postings)
        per_term = per_term.tolist()
        docs = np.frombuffer(postings.docs, dtype=np.uint32)[order]
        counts = np.frombuffer(postings.counts, dtype=np.uint32)[order]
        del order
        lengths = _quantise(np.frombuffer(self.lengths[name], dtype=np.uint32))
        doc_list = docs.tolist()
        count_list = counts.tolist()
        length_list = lengths[docs].tolist()
        values = [_PACK_UINT(c) for c in count_list]
        i = 0
        for (term, _), n in zip(terms, per_term):
            _write_term(fieldwriter, term.encode("utf-8"), doc_list[i:i + n],
                        [float(x) for x in count_list[i:i + n]], values[i:i + n],
                        length_list[i:i + n], rows, joined=True, inline=True)
            i += n
        _add_rows(fieldwriter._tindex, rows)
        fieldwriter.finish_field()

    def _write_text_field(self, fieldwriter, name: str) -> None:
        if not self.text[name].positional:
            self._write_frequency_field(fieldwriter, name)
            return
        postings = self.text[name]
        fieldwriter.start_field(name, self.schema[name])
        rows: list = []
        terms, per_term, order = _terms_in_order(postings)
        # 32-bit arrays where the values fit (they do within any memory budget):
        # the temporaries of a sort are most of a segment's memory.
        positions = np.frombuffer(postings.positions, dtype=np.uint32)
        wide = np.uint32 if len(positions) < 2**32 else np.int64
        counts_all = np.frombuffer(postings.counts, dtype=np.uint32)
        starts_all = np.cumsum(counts_all, dtype=wide)
        starts_all -= counts_all
        deltas = np.empty(len(positions), dtype=np.int32)
        if len(positions):
            deltas[0] = positions[0]
            # differences across documents wrap around; they are overwritten just below
            np.subtract(positions[1:], positions[:-1], out=deltas[1:], casting="unsafe")
            deltas[starts_all] = positions[starts_all]
        del positions
        docs = np.frombuffer(postings.docs, dtype=np.uint32)[order]
        counts = counts_all[order]
        starts = starts_all[order]
        del order, starts_all, counts_all
        lengths = _quantise(np.frombuffer(self.lengths[name], dtype=np.uint32))
        term_ends = np.cumsum(per_term)

        def write_range(writer, first_term: int, stop: int, out: list) -> None:
            single = _SINGLE
            while first_term < stop:
                at = int(term_ends[first_term - 1]) if first_term else 0
                last_term = int(np.searchsorted(term_ends, at + _BATCH, side="left"))
                last_term = min(stop, max(first_term + 1, last_term))
                end = int(term_ends[last_term - 1])
                c = counts[at:end].astype(np.int64)
                total = int(c.sum())
                local = np.cumsum(c) - c
                gather = np.repeat(starts[at:end].astype(np.int64) - local, c) + \
                    np.arange(total, dtype=np.int64)
                chunk = deltas[gather].tolist()
                del gather, local
                doc_list = docs[at:end].tolist()
                count_list = c.tolist()
                length_list = lengths[docs[at:end]].tolist()
                p = 0
                i = 0
                for (term, _), n in zip(terms[first_term:last_term],
                                        per_term[first_term:last_term].tolist()):
                    values = []
                    for cnt in count_list[i:i + n]:
                        if cnt == 1:
                            d = chunk[p]
                            values.append(single[d] if d < 4096 else encode_positions([d]))
                        else:
                            values.append(encode_positions(chunk[p:p + cnt]))
                        p += cnt
                    _write_term(writer, term.encode("utf-8"), doc_list[i:i + n],
                                [float(x) for x in count_list[i:i + n]], values,
                                length_list[i:i + n], out, inline=True)
                    i += n
                first_term = last_term

        # In the foreground (nothing else to do meanwhile), a second process writes
        # the postings of the later half of the terms; its blocks are appended after
        # this process's half and its rows moved by where they landed.
        middle = len(terms)
        if self.split_writes and int(term_ends[-1]) >= _SPLIT_MIN_POSTINGS:
            middle = int(np.searchsorted(term_ends, int(term_ends[-1]) // 2, side="left")) + 1
        if middle >= len(terms):
            write_range(fieldwriter, 0, len(terms), rows)
        else:
            with _Helper(fieldwriter, lambda writer, out: write_range(writer, middle, len(terms), out)) as helper:
                write_range(fieldwriter, 0, middle, rows)
                rows.extend(helper.join(fieldwriter._postfile))
        _add_rows(fieldwriter._tindex, rows)
        fieldwriter.finish_field()

    def _write_other_field(self, fieldwriter, name: str) -> None:
        fieldobj = self.schema[name]
        fieldwriter.start_field(name, fieldobj)
        rows: list = []
        keys = sorted(key for key in self.other if key[0] == name)
        for key in keys:
            entries = self.other[key]
            values = [v for _, _, v in entries if v]
            _write_term(fieldwriter, key[1], [d for d, _, _ in entries],
                        [w for _, w, _ in entries], values, [0] * len(entries), rows)
        _add_rows(fieldwriter._tindex, rows)
        fieldwriter.finish_field()


_BYTE_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.int64)


def _quantise(lengths: np.ndarray) -> np.ndarray:
    """Field lengths as Whoosh reads them back: through its one-byte encoding."""
    codes = np.minimum(np.searchsorted(_BYTE_LENGTHS, lengths, side="left"), 255)
    result = _BYTE_LENGTHS[codes]
    result[lengths == 0] = 0
    return result


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


def _compress(data: bytes, level: int) -> bytes:
    """zlib data that ``zlib.decompress`` reads as usual, made with a 4 KB window:
    setting up the default 256 KB of state costs more than compressing a block."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 12, 2)
    return compressor.compress(data) + compressor.flush()


def _terms_in_order(postings):
    """A field's terms sorted as Whoosh orders them (by their UTF-8 bytes), the number of
    postings of each, and the order that sorts the postings by term (stable: by document
    within a term)."""
    terms = sorted(postings.term_ids.items(), key=lambda item: item[0].encode("utf-8"))
    rank = np.empty(len(terms), dtype=np.uint32)
    rank[np.array([tid for _, tid in terms], dtype=np.int64)] = np.arange(len(terms), dtype=np.uint32)
    ranks = rank[np.frombuffer(postings.tids, dtype=np.uint32)]
    per_term = np.bincount(ranks, minlength=len(terms))
    return terms, per_term, np.argsort(ranks, kind="stable")


def _write_term(fieldwriter, btext: bytes, docs, weights, values, lengths, rows, joined=False,
                inline=False):
    """One term's posting list, written as Whoosh's W3 codec writes it.

    Blocks of ``blocklimit`` postings, each a pickled ``(id deltas, weights,
    values)`` tuple behind a pickled info tuple, then the term's row in the
    term table (appended to ``rows``, see :func:`_add_rows`), with the same
    statistics ``W3PostingsWriter`` and ``W3TermInfo`` compute. ``joined``: the
    values have a fixed size and a block holds them as one byte string (a field
    without positions). ``inline``: a term of one posting keeps it in its row
    instead (W3's inlined postings, which Whoosh reads with a ``ListMatcher``):
    a posting block costs about a hundred bytes, most of them headers.
    """
    if inline and len(docs) <= INLINE_MAX and values:
        known = [n for n in lengths if n]
        weight_sum = 0.0 + sum(weights)
        row = _INFO(True, weight_sum, len(docs), length_to_byte(min(known)) if known else 0,
                    length_to_byte(max(known) if known else 0), max(0, max(weights)),
                    docs[0], docs[-1])
        row += pickle.dumps((tuple(docs), tuple(weights), tuple(values)), BLOCK_PICKLE)
        rows.append((pack_ushort(fieldwriter._fieldid) + btext, row))
        return
    postfile = fieldwriter._postfile
    offset = postfile.tell()
    chunks = [WHOOSH3_HEADER_MAGIC]
    total = len(docs)
    limit = fieldwriter._codec._blocklimit
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
            compression = fieldwriter._codec._compression
            data = _compress(data, compression)
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
    row = _INFO(False, weight_sum, total, 0 if min_length is None else length_to_byte(min_length),
                length_to_byte(max_length), max_weight, docs[0], docs[-1])
    row += pack_long(offset) + pack_int(postfile.tell() - offset)
    rows.append((pack_ushort(fieldwriter._fieldid) + btext, row))


_LENGTHS = struct.Struct("!ii")
# Terms of at most this many postings keep them in the term table (see _write_term).
INLINE_MAX = 2
# Below this many postings in a field, a second writing process costs more than it saves.
_SPLIT_MIN_POSTINGS = 200_000


def _die_with_parent() -> None:
    """In a forked writer: killed when the indexer dies (Linux), so none is left behind."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class _Helper:
    """A forked process that writes some terms' postings (``work(writer, rows)``) to a
    file of its own, for :meth:`join` to append to the real postings file."""

    def __init__(self, fieldwriter, work):
        self.fieldwriter = fieldwriter
        self.work = work
        self.pid = None
        self.folder = tempfile.mkdtemp(prefix="newssearch-postings-")
        self.blocks = os.path.join(self.folder, "blocks")
        self.rows = os.path.join(self.folder, "rows")

    def __enter__(self):
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                _die_with_parent()
                with open(self.blocks, "wb") as handle:
                    writer = _FieldWriterView(self.fieldwriter, handle)
                    out: list = []
                    self.work(writer, out)
                with open(self.rows, "wb") as handle:
                    pickle.dump(out, handle, protocol=pickle.HIGHEST_PROTOCOL)
                status = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(status)
        self.pid = pid
        return self

    def join(self, postfile) -> list:
        """Wait for the process, append its blocks to ``postfile``; its rows, moved there."""
        pid, self.pid = self.pid, None
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise RuntimeError(f"writing index postings failed (status {status})")
        base = postfile.tell()
        with open(self.blocks, "rb") as handle:
            while True:
                data = handle.read(1 << 22)
                if not data:
                    break
                postfile.write(data)
        with open(self.rows, "rb") as handle:
            rows = pickle.load(handle)
        # a row of postings in the postings file (its first byte, "inlined", is 0)
        # ends with their offset (8 bytes) and length (4 bytes)
        return [(key, row[:-12] + pack_long(unpack_long(row[-12:-4])[0] + base) + row[-4:])
                if row[0] == 0 else (key, row) for key, row in rows]

    def __exit__(self, *exc):
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)
        return False


class _FieldWriterView:
    """What :func:`_write_term` uses of a Whoosh field writer, writing to another file."""

    def __init__(self, fieldwriter, handle):
        self._postfile = handle
        self._codec = fieldwriter._codec
        self._fieldid = fieldwriter._fieldid


def _add_rows(tindex, rows) -> None:
    """``tindex.add(key, value)`` for each row, in one write: the rows, their lengths,
    MD5 hash buckets and key positions exactly as Whoosh's ``OrderedHashWriter`` keeps them."""
    if not rows:
        return
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


__all__ = ["SegmentBuilder", "W3TermInfo", "encode_positions", "group_positions"]
