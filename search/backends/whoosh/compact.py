"""Compact posting arrays: each text field's posting lists as plain arrays of
document numbers and frequencies, read at query time without any decoding.

Whoosh's posting blocks hold each posting's positions beside its document and
frequency, pickled and compressed: a word query that scores every match pays
for decompressing and unpickling all of them, which is most of its time. The
segment builder (:mod:`.segments`) therefore also writes, per segment,
one file (``<segment id>.npst``) with every text field's postings of more
than :data:`.internals.INLINE_MAX` documents as

- ``keys``: the offset of the term's postings in the segment's ``.pst`` file
  (from its term info: ascending, one per term), and ``starts``: where each
  term's postings begin in the arrays below (one more entry: the end);
- ``firsts``: each term's first document number;
- ``gaps``: the differences between a term's successive document numbers as
  16-bit values (a term's first entry is 0; a gap of 65,536 or more is 0 here
  and listed in ``gap_at`` / ``gap_value``);
- ``freqs``: the frequencies as bytes (255 here for 255 or more, the true
  value listed in ``freq_at`` / ``freq_value``);
- in a field with positions (the fields phrases are matched in), ``deltas``:
  each posting's positions as Whoosh's position values hold them (the first
  one, then the differences), 16-bit (65,535 or more listed in ``delta_at`` /
  ``delta_value``), and ``delta_starts``: where each term's begin.

About 3 bytes a posting and 2 a position, memory-mapped: a term's list is a slice, a cumulative
sum and a type conversion, and a phrase reads positions the same way. The file is a segment file, so Whoosh removes it
with its segment; a segment without one (written by Whoosh's own writer) is
read from its posting blocks as before. Reading gives exactly the document
numbers and weights the blocks give (tests/integration/test_compact_postings.py).
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
import struct

import numpy as np

SUFFIX = ".npst"
_MAGIC = b"NSPOSTS1"
_TRAILER = struct.Struct("<Q")
_GAP_LIMIT = 1 << 16
_FREQ_LIMIT = 255
_ALIGN = 8


class FieldPart:
    """The postings of a run of consecutive terms of one field (terms in order), written
    batch by batch (:meth:`add`) to files in ``folder``; :meth:`close` ends it."""

    def __init__(self, folder: str):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self._gaps = open(os.path.join(folder, "gaps"), "wb")
        self._freqs = open(os.path.join(folder, "freqs"), "wb")
        self._deltas = None  # opened by the first batch with positions
        self.size = 0
        self.positions = 0
        self._delta_counts: list[np.ndarray] = []
        self._delta_at: list[np.ndarray] = []
        self._delta_value: list[np.ndarray] = []
        self._firsts: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []
        self._gap_at: list[np.ndarray] = []
        self._gap_value: list[np.ndarray] = []
        self._freq_at: list[np.ndarray] = []
        self._freq_value: list[np.ndarray] = []

    def add(self, docs: np.ndarray, freqs: np.ndarray, per_term: np.ndarray,
            deltas: np.ndarray | None = None) -> None:
        """The postings of some terms, term after term: ``per_term[i]`` postings each,
        documents ascending within a term; ``deltas``: their position deltas run
        together (``freqs[j]`` of them for posting ``j``), in a field with positions."""
        if not len(docs):
            return
        if deltas is not None:
            self._add_deltas(deltas, freqs, per_term)
        per_term = per_term.astype(np.int64)
        docs = docs.astype(np.int64)
        starts = np.cumsum(per_term) - per_term
        gaps = np.empty(len(docs), dtype=np.int64)
        gaps[0] = 0
        np.subtract(docs[1:], docs[:-1], out=gaps[1:])
        gaps[starts] = 0
        _set_apart(gaps, _GAP_LIMIT, 0, self.size, self._gap_at, self._gap_value)
        gaps.astype(np.uint16).tofile(self._gaps)
        freqs = freqs.astype(np.int64)
        _set_apart(freqs, _FREQ_LIMIT, _FREQ_LIMIT, self.size, self._freq_at, self._freq_value)
        freqs.astype(np.uint8).tofile(self._freqs)
        self._firsts.append(docs[starts])
        self._counts.append(per_term)
        self.size += len(docs)

    def _add_deltas(self, deltas: np.ndarray, freqs: np.ndarray, per_term: np.ndarray) -> None:
        if self._deltas is None:
            self._deltas = open(os.path.join(self.folder, "deltas"), "wb")
        values = deltas.astype(np.int64)
        _set_apart(values, _GAP_LIMIT, 0, self.positions, self._delta_at, self._delta_value)
        values.astype(np.uint16).tofile(self._deltas)
        term_starts = np.cumsum(per_term) - per_term
        self._delta_counts.append(np.add.reduceat(freqs.astype(np.int64), term_starts))
        self.positions += len(values)

    def close(self) -> None:
        """Flush the files and save the small arrays beside them."""
        self._gaps.close()
        self._freqs.close()
        if self._deltas is not None:
            self._deltas.close()
            for name, values in (("delta_counts", _joined(self._delta_counts, np.int64)),
                                 ("delta_at", _joined(self._delta_at, np.int64)),
                                 ("delta_value", _joined(self._delta_value, np.uint32))):
                values.tofile(os.path.join(self.folder, name))
        small = {
            "firsts": _joined(self._firsts, np.uint32),
            "counts": _joined(self._counts, np.int64),
            "gap_at": _joined(self._gap_at, np.int64),
            "gap_value": _joined(self._gap_value, np.uint32),
            "freq_at": _joined(self._freq_at, np.int64),
            "freq_value": _joined(self._freq_value, np.uint32),
        }
        for name, values in small.items():
            values.tofile(os.path.join(self.folder, name))

    def terms(self) -> int:
        return sum(len(c) for c in self._counts)


def _set_apart(values: np.ndarray, limit: int, fill: int, base: int, at: list, true: list) -> None:
    """Lists the ``values`` of ``limit`` or more apart (their indexes plus ``base`` in
    ``at``, the values in ``true``) and puts ``fill`` in their place."""
    found = np.flatnonzero(values >= limit)
    if len(found):
        at.append(found + base)
        true.append(values[found])
        values[found] = fill


def _starts(counts: np.ndarray) -> np.ndarray:
    """Where each of a run of pieces of ``counts`` items begins, and (last) where they end."""
    starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return starts


def _joined(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


class CompactWriter:
    """Writes a segment's ``.npst`` file: fields one after another (:meth:`add_field`),
    then the table of where each array lies (:meth:`close`)."""

    def __init__(self, path: str):
        self.path = path
        self._handle = open(path, "wb")
        self._handle.write(_MAGIC)
        self._table: dict = {}

    def _align(self) -> None:
        extra = -self._handle.tell() % _ALIGN
        if extra:
            self._handle.write(b"\0" * extra)

    def _array(self, values: np.ndarray) -> list:
        self._align()
        at = self._handle.tell()
        values.tofile(self._handle)
        return [values.dtype.str, at, len(values)]

    def _copied(self, folders: list[str], name: str, dtype) -> list:
        self._align()
        at = self._handle.tell()
        count = 0
        for folder in folders:
            path = os.path.join(folder, name)
            with open(path, "rb") as source:
                shutil.copyfileobj(source, self._handle, 1 << 22)
            count += os.path.getsize(path) // np.dtype(dtype).itemsize
        return [np.dtype(dtype).str, at, count]

    def add_field(self, name: str, keys: list[int], folders: list[str]) -> None:
        """Field ``name`` from the closed parts in ``folders`` (in term order), whose terms'
        postings lie at ``keys`` in the ``.pst`` file."""
        def joined(array, dtype):
            return _joined([np.fromfile(os.path.join(f, array), dtype=dtype) for f in folders],
                           dtype)

        def shifted(array, stream, itemsize):
            """Indexes into ``stream`` of each part, made indexes into the parts joined."""
            parts, base = [], 0
            for folder in folders:
                parts.append(np.fromfile(os.path.join(folder, array), dtype=np.int64) + base)
                base += os.path.getsize(os.path.join(folder, stream)) // itemsize
            return _joined(parts, np.int64)

        counts = joined("counts", np.int64)
        if len(keys) != len(counts):
            raise ValueError(f"{name}: {len(keys)} terms in the term table, "
                             f"{len(counts)} in the compact postings")
        entry = {
            "keys": self._array(np.array(keys, dtype=np.uint64)),
            "starts": self._array(_starts(counts)),
            "firsts": self._array(joined("firsts", np.uint32)),
            "gap_at": self._array(shifted("gap_at", "freqs", 1)),
            "gap_value": self._array(joined("gap_value", np.uint32)),
            "freq_at": self._array(shifted("freq_at", "freqs", 1)),
            "freq_value": self._array(joined("freq_value", np.uint32)),
            "gaps": self._copied(folders, "gaps", np.uint16),
            "freqs": self._copied(folders, "freqs", np.uint8),
        }
        if folders and all(os.path.exists(os.path.join(f, "deltas")) for f in folders):
            entry["delta_starts"] = self._array(_starts(joined("delta_counts", np.int64)))
            entry["delta_at"] = self._array(shifted("delta_at", "deltas", 2))
            entry["delta_value"] = self._array(joined("delta_value", np.uint32))
            entry["deltas"] = self._copied(folders, "deltas", np.uint16)
        self._table[name] = entry

    def close(self) -> None:
        table = json.dumps(self._table).encode("utf-8")
        self._handle.write(table)
        self._handle.write(_TRAILER.pack(len(table)))
        self._handle.close()

    def abandon(self) -> None:
        self._handle.close()
        try:
            os.remove(self.path)
        except OSError:
            pass


class CompactPostings:
    """A segment's ``.npst`` file, memory-mapped: :meth:`postings` of a term by the
    offset of its postings in the ``.pst`` file."""

    def __init__(self, path: str):
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                raise ValueError(f"{path}: empty")
            # plain arrays over the mapping (numpy's memmap class costs on every slice)
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            data = np.frombuffer(self._map, dtype=np.uint8)
        if len(data) < len(_MAGIC) + _TRAILER.size or bytes(data[:len(_MAGIC)]) != _MAGIC:
            raise ValueError(f"{path}: not a compact postings file")
        length = _TRAILER.unpack(bytes(data[-_TRAILER.size:]))[0]
        table = json.loads(bytes(data[-_TRAILER.size - length:-_TRAILER.size]))
        self._fields = {}
        for name, entry in table.items():
            arrays = {}
            for key, (dtype, at, count) in entry.items():
                dtype = np.dtype(dtype)
                arrays[key] = data[at:at + count * dtype.itemsize].view(dtype)
            self._fields[name] = arrays

    def read_ahead(self) -> None:
        """Ask the system to bring the whole file into memory (in the background)."""
        try:
            self._map.madvise(mmap.MADV_WILLNEED)
        except (AttributeError, OSError, ValueError):
            pass

    def has_field(self, name: str) -> bool:
        return name in self._fields

    def _row(self, field: str, key: int):
        """``(the field's arrays, the term's row)``, or None when this file does not hold
        the term whose postings lie at ``key``."""
        arrays = self._fields.get(field)
        if arrays is None:
            return None
        keys = arrays["keys"]
        i = int(keys.searchsorted(np.uint64(key)))
        if i >= len(keys) or int(keys[i]) != key:
            return None
        return arrays, i

    @staticmethod
    def _postings_at(arrays, i: int):
        begin, end = int(arrays["starts"][i]), int(arrays["starts"][i + 1])
        gaps = arrays["gaps"][begin:end].astype(np.int64)
        _patch(gaps, arrays["gap_at"], arrays["gap_value"], begin, end)
        gaps[0] = int(arrays["firsts"][i])
        freqs = arrays["freqs"][begin:end].astype(np.float32)
        _patch(freqs, arrays["freq_at"], arrays["freq_value"], begin, end)
        return np.cumsum(gaps), freqs

    def postings(self, field: str, key: int):
        """``(docnums int64, weights float32)`` of the term whose postings lie at ``key``
        in the ``.pst`` file, or None when this file does not hold it."""
        found = self._row(field, key)
        return None if found is None else self._postings_at(*found)

    def has_positions(self, field: str) -> bool:
        arrays = self._fields.get(field)
        return arrays is not None and "deltas" in arrays

    def positions(self, field: str, key: int):
        """``(docnums, sizes, deltas)`` of the term whose postings lie at ``key``: its
        documents, how many positions each holds and their position deltas run together
        (each document's first one, then the differences); None when not held here."""
        found = self._row(field, key) if self.has_positions(field) else None
        if found is None:
            return None
        arrays, i = found
        docs, freqs = self._postings_at(arrays, i)
        begin, end = int(arrays["delta_starts"][i]), int(arrays["delta_starts"][i + 1])
        deltas = arrays["deltas"][begin:end].astype(np.int64)
        _patch(deltas, arrays["delta_at"], arrays["delta_value"], begin, end)
        return docs, freqs.astype(np.int64), deltas


def _patch(values: np.ndarray, at: np.ndarray, true: np.ndarray, begin: int, end: int) -> None:
    """Put back the values listed apart (``true`` at indexes ``at``) that fall in ``begin:end``."""
    if not len(at):
        return
    low, high = np.searchsorted(at, [begin, end])
    if low < high:
        values[at[low:high] - begin] = true[low:high]


def open_compact(folder: str | None, segment) -> CompactPostings | None:
    """The compact postings of ``segment`` in the index folder, None when it has none
    (or the file cannot be read: the posting blocks are then read instead)."""
    if folder is None:
        return None
    path = os.path.join(folder, segment.make_filename(SUFFIX))
    if not os.path.exists(path):
        return None
    try:
        return CompactPostings(path)
    except (OSError, ValueError, KeyError):
        return None


__all__ = ["CompactPostings", "CompactWriter", "FieldPart", "SUFFIX", "open_compact"]
