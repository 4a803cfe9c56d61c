"""Writing Whoosh segments fast, from term lists made ahead of time.

Whoosh's own writer sends every posting through a pool of tuples that it
pickles to temporary runs and merges back, which is most of its build time.
:class:`SegmentBuilder` keeps the postings of the text fields in flat arrays
instead (term number, document, frequency, positions), sorts them once with
numpy and writes the blocks of a range of terms at once in Whoosh's W3 format
(:mod:`.blocks`: same codec, same block layout, same statistics as
:class:`.internals.TermWriter`), so every Whoosh
reader reads them unchanged; only the blocks are pickled with a later protocol
(see ``internals.BLOCK_PICKLE``).

Per-document data (stored fields, lengths, columns) goes through Whoosh's
per-document writer, field for field as ``SegmentWriter.add_document`` does,
into the one segment of the build. When the postings reach the memory budget,
they are spilled as a run (sorted by term, raw arrays in a folder inside the
index's new generation) and the arrays begin again: a thread of the indexer sorts
them into the run while the indexer reads on (numpy's sorts and gathers let go
of the interpreter's lock). A forked process did the sorting first; it counted
every page of the indexer it was forked from (the indexer's memory twice in the
sum of resident sizes over the process tree, 1.2 GB and more on a 1 GB dump).
Then a fresh ``python -m`` process did, from the arrays written as they were:
it held only the sort's arrays, but importing the package cost it about 0.8 s of
CPU (and 70 MB) per run, some 11 s of CPU over the 14 runs of all FANG articles
on a 2-core machine; the thread holds the sort's arrays alone. :meth:`finish` merges the runs and the postings
still in memory term by term into the segment's postings and term table (and
the same postings as compact arrays, see :mod:`.compact`), and removes the
runs.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import tempfile
import threading
import traceback
from array import array
from operator import itemgetter

import numpy as np

from ...analysis.batch import ranges
from ...processes import end_with_parent
from ...ranking.lengths import BYTE_LENGTHS
from ...settings import Settings
from . import internals
from .blocks import write_postings
from .compact import SUFFIX as COMPACT_SUFFIX, CompactWriter, FieldPart
from .internals import INLINE_MAX, TermWriter, write_column

# Bytes one posting costs at the peak: its arrays and sort temporaries in the process
# spilling a full run, while the indexer fills the next run's arrays, with a margin.
POSTING_BYTES = 100
_BATCH = 250_000  # postings written a range of terms at a time
_KNOWN_VALUES = 50_000  # values of repeating fields remembered at most


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

    def add_batch(self, batch, postings, docnums: np.ndarray) -> None:
        """The postings of an analysed batch (:class:`search.analysis.batch.FieldPostings`)
        of the documents that ``docnums`` numbers (by batch document; -1: left out)."""
        docs = docnums[postings.doc]
        keep = docs >= 0
        whole = bool(keep.all())
        terms = postings.term if whole else postings.term[keep]
        if not len(terms):
            return
        lookup = np.zeros(len(batch.terms), dtype=np.uint32)
        used = np.flatnonzero(np.bincount(terms, minlength=len(batch.terms)))
        # the batch's terms numbered here, new ones after the known (by C iterators:
        # the numbers of new terms need no order, the run is sorted by term)
        ids = self.term_ids
        names = [batch.terms[int(used[0])]] if len(used) == 1 else \
            itemgetter(*used.tolist())(batch.terms)
        new = set(names).difference(ids)
        if new:
            ids.update(zip(new, range(len(ids), len(ids) + len(new))))
        lookup[used] = np.fromiter(map(ids.__getitem__, names), dtype=np.uint32,
                                   count=len(names))
        counts = postings.count if whole else postings.count[keep]
        self.tids.frombytes(lookup[terms].tobytes())
        self.docs.frombytes((docs if whole else docs[keep]).astype(np.uint32).tobytes())
        self.counts.frombytes(counts.astype(np.uint32).tobytes())
        if self.positional:
            positions = postings.positions
            if not whole:
                starts = postings.position_starts()[:-1][keep]
                positions = positions[ranges(starts, counts.astype(np.int64))]
            self.positions.frombytes(positions.astype(np.uint32).tobytes())

    def __len__(self):
        return len(self.tids)


class _Sorter:
    """A thread that sorts the postings of each text field into a run in ``folder``
    (:meth:`SortedRun.of`, one folder per field); :meth:`join` waits for it and raises
    what it raised."""

    def __init__(self, text: dict, folder: str):
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._sort, args=(text, folder),
                                       name="sorting a run", daemon=True)
        self.thread.start()

    def _sort(self, text: dict, folder: str) -> None:
        try:
            while text:
                name, postings = text.popitem()
                SortedRun.of(postings, os.path.join(folder, name))
                del postings
        except BaseException as error:  # handed to join
            self.error = error

    def join(self) -> None:
        self.thread.join()
        if self.error is not None:
            raise RuntimeError(f"sorting a run of index postings failed: {self.error}") \
                from self.error


class _FieldTerms:
    """The postings of one field without positions (ids, checksums, dates, languages):
    each distinct term numbered once, and each posting's term number, document and
    weight in flat arrays. (A list of (document, weight, value) per term cost about
    900 bytes an article in the indexing process, most of them for the terms that
    only one article holds: its id, checksum, url.)"""

    def __init__(self):
        self.numbers: dict[bytes, int] = {}
        self.terms = array("I")
        self.docs = array("I")
        self.weights = array("d")
        self.values: dict[int, bytes] = {}  # posting → its value, for the few that have one

    def add(self, term: bytes, docnum: int, weight: float, value) -> None:
        number = self.numbers.get(term)
        if number is None:
            number = self.numbers[term] = len(self.numbers)
        if value:
            self.values[len(self.docs)] = value
        self.terms.append(number)
        self.docs.append(docnum)
        self.weights.append(weight)

    def valueless(self):
        """When no posting has a value and every weight is 1: the terms in byte order,
        the postings of each and every posting's document, term after term (in the order
        they were added: documents ascending); else ``None``."""
        if self.values or not self.numbers or \
                not (np.frombuffer(self.weights, dtype=np.float64) == 1.0).all():
            return None
        numbers = np.frombuffer(self.terms, dtype=np.uint32)
        terms = sorted(self.numbers.items())
        rank = np.empty(len(terms), dtype=np.int64)
        rank[np.fromiter((n for _, n in terms), dtype=np.int64, count=len(terms))] = \
            np.arange(len(terms))
        ranks = rank[numbers]
        order = np.argsort(ranks, kind="stable")
        return ([t for t, _ in terms], np.bincount(ranks, minlength=len(terms)),
                np.frombuffer(self.docs, dtype=np.uint32)[order].astype(np.int64))

    def in_order(self):
        """``(term, documents, weights, values)`` of each term in byte order, its
        postings in the order they were added (documents ascending)."""
        if not self.numbers:
            return
        order = np.argsort(np.frombuffer(self.terms, dtype=np.uint32), kind="stable")
        ends = np.cumsum(np.bincount(np.frombuffer(self.terms, dtype=np.uint32),
                                     minlength=len(self.numbers)))
        docs = np.frombuffer(self.docs, dtype=np.uint32)
        weights = np.frombuffer(self.weights, dtype=np.float64)
        values = self.values
        for term, number in sorted(self.numbers.items()):
            postings = order[(int(ends[number - 1]) if number else 0):int(ends[number])]
            yield (term, docs[postings].tolist(), weights[postings].tolist(),
                   [values[p] for p in postings.tolist() if p in values] if values else [])


def stored_document(schema, fields: dict) -> bytes:
    """The stored fields of a document given as ``fields`` (as for ``add_document``), as
    the segment stores them (:func:`.internals.stored_bytes`): what Whoosh's writer
    would store, made wherever the document is prepared."""
    values = {}
    for name in sorted(n for n in fields if not n.startswith("_")):
        value = fields[name]
        if value is not None and schema[name].stored:
            values[name] = fields.get("_stored_" + name, value)
    return internals.stored_bytes(values)


class SegmentBuilder:
    """Builds the one segment of a fresh Whoosh index; see the module's text."""

    def __init__(self, ix, positional_fields: tuple[str, ...], settings: Settings):
        from whoosh.codec import default_codec

        self.ix = ix
        self.storage = ix.storage
        self.schema = ix.schema
        self.codec = default_codec()
        self.positional = positional_fields
        # postings held before a run is spilled: the memory budget, but at least
        # min_run_postings (runs merged at the end cost a read each)
        self.budget = max(settings.min_run_postings,
                          settings.writer_memory_mb * 1024 * 1024 // POSTING_BYTES)
        self.segment = None
        self.perdoc = None
        self.docnum = 0
        self.deleted: set[int] = set()
        self.lengths = {name: array("I") for name in self.positional}
        # the postings of the other indexed fields (ids, dates, languages …)
        self.other: dict[str, _FieldTerms] = {}
        self.text = self._new_postings()
        # the analysed batch whose documents are being added, and their numbers here
        self._batch = None
        self._docnums: np.ndarray | None = None
        self._doc_postings: np.ndarray | None = None  # postings of each of its documents
        self._pending = 0  # postings of its documents added but not yet taken
        self.runs: list[str] = []  # folders of the runs spilled so far, in order
        self.run_root: str | None = None
        self._sorter: _Sorter | None = None  # the thread sorting the last run
        # A text field of split_min_postings or more is written by two processes at the
        # end (see _write_text_field); below that a second process costs more than it saves.
        self.split_min_postings = settings.split_min_postings if hasattr(os, "fork") else None
        self.split_max_documents = settings.split_max_documents
        # Fields whose values are known only once every document is in (see add_late_field).
        self.late: dict[str, list] = {}
        # What Whoosh makes of a value of a field whose values repeat (see _indexed)
        self._known: dict = {}

    def _new_postings(self) -> dict[str, _TextPostings]:
        return {name: _TextPostings(self.schema[name].format.supports("positions"))
                for name in self.positional}

    @property
    def postings(self) -> int:
        return sum(len(p) for p in self.text.values())

    @property
    def docnum_total(self) -> int:
        """The number the next document gets."""
        return self.docnum

    def delete(self, docnum: int) -> None:
        """Mark a document added earlier as deleted (a later one replaced it)."""
        self.deleted.add(docnum)

    def add_late_field(self, name: str, values: list) -> None:
        """The values of an ID field with a column that are known only once every document
        is added (near-duplicate clusters): ``values[docnum]`` for every document; they are
        indexed and written to the column by :meth:`finish`."""
        self.late[name] = values

    def cancel(self) -> None:
        sorter, self._sorter = self._sorter, None
        if sorter is not None:
            try:
                sorter.join()
            except Exception:
                pass
        if self.perdoc is not None and not self.perdoc.is_closed:
            try:
                self.perdoc.close()
            except Exception:
                pass
        self._remove_runs()

    def add(self, fields: dict, batch, number: int, stored: bytes | None = None) -> None:
        """One document: ``fields`` as for ``add_document`` (the indexed fields' values
        are not read); its terms are document ``number`` of the analysed ``batch``
        (:class:`search.analysis.batch.AnalysedBatch`); ``stored``: its stored fields
        made ahead (``stored_document(schema, fields)``), else made here. A batch's
        postings are taken in one piece when the next batch begins (or the segment is
        written)."""
        schema = self.schema
        if self.perdoc is None:
            self.segment = self.codec.new_segment(self.storage, self.ix.indexname)
            self.perdoc = self.codec.per_document_writer(self.storage, self.segment)
        if batch is not self._batch:
            self._take_batch()
            self._batch = batch
            self._docnums = np.full(batch.size, -1, dtype=np.int64)
            self._doc_postings = sum(np.diff(p.starts()) for p in batch.fields.values())
            self._pending = 0
        perdoc = self.perdoc
        docnum = self.docnum
        self._docnums[number] = docnum
        self._pending += int(self._doc_postings[number])
        perdoc.start_doc(docnum)
        for name in sorted(n for n in fields if not n.startswith("_")):
            value = fields[name]
            if value is None:
                continue
            field = schema[name]
            length = 0
            if name in self.text:
                length = int(batch.fields[name].lengths[number])
                self.lengths[name].append(length)
            elif field.indexed:
                other = self.other.get(name)
                if other is None:
                    other = self.other[name] = _FieldTerms()
                postings, length = self._indexed(name, field, value)
                for tbytes, weight, vbytes in postings:
                    other.add(tbytes, docnum, weight, vbytes)
            value = fields.get("_stored_" + name, value)
            perdoc.add_field(name, field, None, length)
            column = field.column_type
            if column and value is not None:
                perdoc.add_column_value(name, column, self._column_value(name, field, value))
        internals.add_stored_bytes(perdoc, docnum, stored if stored is not None
                                   else stored_document(schema, fields))
        perdoc.finish_doc()
        for name in self.positional:
            if fields.get(name) is None:
                self.lengths[name].append(0)
        self.docnum += 1
        if self.postings + self._pending >= self.budget:
            self._take_batch(done=False)

    def _indexed(self, name: str, field, value) -> tuple[list, int]:
        """The postings ``(term bytes, weight, value bytes)`` of ``value`` in the field and
        its length, remembered for fields whose values repeat (dates, months, sources,
        languages: a 64-bit numeric field's value is 17 calls into Whoosh)."""
        key = (name, value) if not field.unique and isinstance(value, (str, int)) else None
        known = self._known.get(key) if key is not None else None
        if known is None:
            postings, length = [], 0
            for tbytes, freq, weight, vbytes in field.index(value):
                if field.scorable:
                    length += freq
                postings.append((tbytes, weight, vbytes))
            known = (postings, length)
            if key is not None:
                self._remember(key, known)
        return known

    def _column_value(self, name: str, field, value):
        key = ("column", name, value) if not field.unique and isinstance(value, (str, int)) \
            else None
        known = self._known.get(key) if key is not None else None
        if known is None:
            known = field.to_column_value(value)
            if key is not None:
                self._remember(key, known)
        return known

    def _remember(self, key, known) -> None:
        if len(self._known) >= _KNOWN_VALUES:
            self._known.clear()
        self._known[key] = known

    def _take_batch(self, done: bool = True) -> None:
        """The postings of the documents added from the current batch so far, in one
        piece each field; a run is spilled when they reach the memory budget. With
        ``done`` false, later documents of the same batch may still follow."""
        batch = self._batch
        if batch is None:
            return
        for name, postings in self.text.items():
            postings.add_batch(batch, batch.fields[name], self._docnums)
        if done:
            self._batch = self._docnums = self._doc_postings = None
        else:
            self._docnums[:] = -1
        self._pending = 0
        if self.postings >= self.budget:
            self.spill()

    # -- writing ---------------------------------------------------------------

    def spill(self) -> None:
        """Write the text postings gathered so far to a run on disk, sorted by term, and
        begin new ones. A thread of this process sorts and writes them while this one
        goes on adding documents (one such thread at a time; :meth:`finish` waits for
        it): numpy's sorts, gathers and writes let go of the interpreter's lock."""
        if not self.postings:
            return
        self.wait()
        if self.run_root is None:
            folder = getattr(self.storage, "folder", None)
            self.run_root = tempfile.mkdtemp(prefix=".runs-", dir=folder)
        folder = os.path.join(self.run_root, f"{len(self.runs):04d}")
        os.mkdir(folder)
        text, self.text = self.text, self._new_postings()
        self._sorter = _Sorter(text, folder)
        self.runs.append(folder)

    def wait(self) -> None:
        """Wait for the run being sorted in the background, if any."""
        sorter, self._sorter = self._sorter, None
        if sorter is not None:
            sorter.join()

    def finish(self) -> list:
        """Write the segment (text postings merged from the runs and the postings still
        in memory) and return it, in a list for the index's table of contents."""
        try:
            self._take_batch()
            self.wait()
            if self.docnum == 0:
                return []
            for name, values in self.late.items():
                self._add_late_field(name, values)
            self.perdoc.close()
            segment = self.segment
            segment.set_doc_count(self.docnum)
            for docnum in sorted(self.deleted):
                segment.delete_document(docnum)
            fieldwriter = self.codec.field_writer(self.storage, segment)
            folder = getattr(self.storage, "folder", None)
            compact = None if folder is None else \
                CompactWriter(os.path.join(folder, segment.make_filename(COMPACT_SUFFIX)))
            try:
                names = sorted(set(self.text) | set(self.other))
                for name in names:
                    if name in self.text:
                        runs = [SortedRun.load(os.path.join(folder, name))
                                for folder in self.runs]
                        if len(self.text[name]):
                            runs.append(SortedRun.of(self.text[name]))
                        self.text[name] = None
                        runs = [run for run in runs if run.per_term.size]
                        if runs:
                            self._write_text_field(fieldwriter, name, runs, compact)
                    else:
                        self._write_other_field(fieldwriter, name)
                fieldwriter.close()
                if compact is not None:
                    compact.close()
            except BaseException:
                if compact is not None:
                    compact.abandon()
                raise
            return [segment]
        finally:
            self._remove_runs()

    def _add_late_field(self, name: str, values: list) -> None:
        field = self.schema[name]
        other = self.other.setdefault(name, _FieldTerms())
        deleted = self.deleted
        column = []
        for docnum, value in enumerate(values[:self.docnum]):
            if docnum in deleted or not value:
                continue
            for tbytes, _, weight, vbytes in field.index(value):
                other.add(tbytes, docnum, weight, vbytes)
            column.append((docnum, field.to_column_value(value)))
        write_column(self.perdoc, name, field.column_type, column)

    def _remove_runs(self) -> None:
        if self.run_root is not None:
            shutil.rmtree(self.run_root, ignore_errors=True)
            self.run_root = None

    def _write_text_field(self, fieldwriter, name: str, runs: list, compact=None) -> None:
        """A text field's postings in Whoosh's order: the terms of all runs in byte order,
        each term's postings run after run (documents ascend within a term); and, with
        ``compact`` (a :class:`.compact.CompactWriter`), the same postings as
        compact arrays."""
        positional = runs[0].positional
        fieldwriter.start_field(name, self.schema[name])
        term_writer = TermWriter.of(fieldwriter)
        rows: list = []
        merged = MergedRuns(runs)
        terms, per_term, term_ends = merged.terms, merged.per_term, merged.term_ends
        lengths = _quantise(np.frombuffer(self.lengths[name], dtype=np.uint32))

        def write_range(writer, first_term: int, stop: int, out: list, part=None) -> None:
            while first_term < stop:
                at = int(term_ends[first_term - 1]) if first_term else 0
                last_term = int(np.searchsorted(term_ends, at + _BATCH, side="left"))
                last_term = min(stop, max(first_term + 1, last_term))
                docs, counts, deltas = merged.read(first_term, last_term)
                if part is not None:  # the terms not inlined into the term table
                    sizes = per_term[first_term:last_term]
                    listed = sizes > INLINE_MAX
                    if listed.any():
                        keep = np.repeat(listed, sizes)
                        part.add(docs[keep], counts[keep], sizes[listed],
                                 deltas[np.repeat(keep, counts)] if positional else None)
                write_postings(writer, terms[first_term:last_term],
                               per_term[first_term:last_term], docs, counts,
                               deltas if positional else None, lengths[docs], out)
                del docs, counts, deltas
                first_term = last_term

        # Nothing else to do meanwhile: a second process writes the postings of the
        # later half of the terms; its blocks are appended after this process's half
        # and its rows moved by where they landed. Only up to split_max_documents: the
        # second process is a fork, whose resident pages (all of this process's, which
        # grow with the documents) count again in the memory of the process tree.
        middle = len(terms)
        if self.split_min_postings is not None and int(term_ends[-1]) >= self.split_min_postings \
                and self.docnum <= self.split_max_documents:
            middle = int(np.searchsorted(term_ends, int(term_ends[-1]) // 2, side="left")) + 1
        folder = getattr(self.storage, "folder", None)
        scratch = tempfile.mkdtemp(prefix=".compact-", dir=folder) if compact else None
        try:
            parts = []
            part = FieldPart(os.path.join(scratch, "first")) if compact else None
            if middle >= len(terms):
                write_range(term_writer, 0, len(terms), rows, part)
            else:
                def later_half(writer, out):
                    later = FieldPart(os.path.join(helper.folder, "compact")) if compact \
                        else None
                    write_range(writer, middle, len(terms), out, later)
                    if later is not None:
                        later.close()

                helper = _Helper(term_writer, later_half, folder)
                with helper:
                    write_range(term_writer, 0, middle, rows, part)
                    rows.extend(helper.join(term_writer.postfile))
                    if compact:
                        # moved out of the helper's folder before it is removed
                        os.rename(os.path.join(helper.folder, "compact"),
                                  os.path.join(scratch, "later"))
                        parts.append(os.path.join(scratch, "later"))
            if compact:
                part.close()
                parts.insert(0, part.folder)
                compact.add_field(name, internals.listed_offsets(rows), parts)
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        internals.add_term_rows(fieldwriter, rows)
        fieldwriter.finish_field()

    def _write_other_field(self, fieldwriter, name: str) -> None:
        fieldobj = self.schema[name]
        fieldwriter.start_field(name, fieldobj)
        term_writer = TermWriter.of(fieldwriter)
        rows: list = []
        postings = self.other.pop(name)
        arrays = postings.valueless()
        if arrays is not None:  # ids, dates, sources …: all terms at once
            terms, per_term, docs = arrays
            ones = np.ones(len(docs), dtype=np.int64)
            for first in range(0, len(terms), _BATCH):
                last = min(len(terms), first + _BATCH)
                begin, end = int(per_term[:first].sum()), int(per_term[:last].sum())
                write_postings(term_writer, terms[first:last], per_term[first:last],
                               docs[begin:end], ones[begin:end], None,
                               np.zeros(end - begin, dtype=np.int64), rows, valueless=True)
        else:
            for term, docs, weights, values in postings.in_order():
                term_writer.write(term, docs, weights, values, [0] * len(docs), rows)
        internals.add_term_rows(fieldwriter, rows)
        fieldwriter.finish_field()


class SortedRun:
    """One text field's postings from one run, in term order: the terms (UTF-8, in byte
    order), the postings and positions of each term, then every posting's document and
    frequency and the position deltas, each array in term order. Held in memory (the
    postings of the last run) or in a folder of raw arrays written by :meth:`save`,
    read a range of terms at a time (``np.fromfile``: no mapped pages)."""

    def __init__(self, terms: list[bytes], per_term, term_positions, positional: bool,
                 arrays: dict | None = None, folder: str | None = None):
        self.terms = terms
        self.per_term = per_term
        self.positional = positional
        self.posting_ends = np.cumsum(per_term, dtype=np.int64)
        self.position_ends = np.cumsum(term_positions, dtype=np.int64) if positional else None
        self.arrays = arrays
        self.folder = folder

    @classmethod
    def of(cls, postings: _TextPostings, folder: str | None = None) -> "SortedRun":
        """The postings sorted by term; with ``folder``, a run saved there, each array
        written as soon as it is made (and not kept: a run's sort temporaries are most of
        the memory of the process spilling it)."""
        arrays: dict = {}

        def keep(name: str, values: np.ndarray) -> None:
            if folder is None:
                arrays[name] = values
            else:
                values.tofile(os.path.join(folder, name))

        if folder is not None:
            os.mkdir(folder)
        terms, per_term, order = _terms_in_order(postings)
        counts_all = np.frombuffer(postings.counts, dtype=np.uint32)
        keep("docs", np.frombuffer(postings.docs, dtype=np.uint32)[order])
        counts = counts_all[order]
        term_positions = None
        if postings.positional:
            # 32-bit arrays where the values fit (they do within any memory budget)
            positions = np.frombuffer(postings.positions, dtype=np.uint32)
            starts = np.cumsum(counts_all, dtype=np.uint32 if len(positions) < 2**32 else np.int64)
            starts -= counts_all
            starts = starts[order]
        del order
        if postings.positional:
            keep("deltas", _gather(positions, starts, counts, deltas=True))
            del starts
            term_positions = np.zeros(len(per_term), dtype=np.int64)
            if len(per_term):
                term_positions = np.add.reduceat(counts.astype(np.int64),
                                                 np.cumsum(per_term) - per_term)
        keep("counts", counts)
        del counts
        run = cls(terms, per_term, term_positions, postings.positional,
                  arrays=arrays if folder is None else None, folder=folder)
        if folder is not None:
            with open(os.path.join(folder, "terms"), "wb") as handle:
                pickle.dump(terms, handle, protocol=pickle.HIGHEST_PROTOCOL)
            per_term.astype(np.uint32).tofile(os.path.join(folder, "per_term"))
            if term_positions is not None:
                term_positions.tofile(os.path.join(folder, "term_positions"))
        return run

    def term_list(self) -> list[bytes]:
        """The run's terms: held, or read from its folder (and not kept)."""
        if self.terms is not None:
            return self.terms
        with open(os.path.join(self.folder, "terms"), "rb") as handle:
            return pickle.load(handle)

    @classmethod
    def load(cls, folder: str) -> "SortedRun":
        """The run saved in ``folder``; its terms are read when asked for (term_list)."""
        terms = None
        per_term = np.fromfile(os.path.join(folder, "per_term"), dtype=np.uint32)
        path = os.path.join(folder, "term_positions")
        positional = os.path.exists(path)
        term_positions = np.fromfile(path, dtype=np.int64) if positional else None
        return cls(terms, per_term, term_positions, positional, folder=folder)

    def read(self, first: int, last: int):
        """``(docs, counts, deltas)`` of the terms ``first`` to ``last`` (run numbering);
        ``deltas`` is None for a field without positions."""
        begin = int(self.posting_ends[first - 1]) if first else 0
        end = int(self.posting_ends[last - 1])
        if self.positional:
            position_begin = int(self.position_ends[first - 1]) if first else 0
            position_end = int(self.position_ends[last - 1])
        deltas = None
        if self.arrays is not None:
            docs = self.arrays["docs"][begin:end]
            counts = self.arrays["counts"][begin:end]
            if self.positional:
                deltas = self.arrays["deltas"][position_begin:position_end]
            return docs, counts, deltas

        def part(name, dtype, start, stop):
            return np.fromfile(os.path.join(self.folder, name), dtype=dtype,
                               count=stop - start, offset=start * 4)

        docs = part("docs", np.uint32, begin, end)
        counts = part("counts", np.uint32, begin, end)
        if self.positional:
            deltas = part("deltas", np.int32, position_begin, position_end)
        return docs, counts, deltas


class MergedRuns:
    """The runs of one text field as one: their terms' union in byte order, and each
    term's postings run after run (``read``)."""

    def __init__(self, runs: list[SortedRun]):
        self.runs = runs
        if len(runs) == 1:
            self.terms = runs[0].term_list()
            self.per_term = runs[0].per_term
            self.where = [None]
        else:
            # the terms of one run at a time (a 1 GB dump spills twenty runs and more,
            # each naming a few hundred thousand terms): their union, then each run's
            # place in it
            union: set[bytes] = set()
            for run in runs:
                union.update(run.term_list())
            self.terms = sorted(union)
            del union
            number = {term: i for i, term in enumerate(self.terms)}
            self.where = []
            for run in runs:
                terms = run.term_list()
                self.where.append(np.fromiter(map(number.__getitem__, terms), dtype=np.int32,
                                              count=len(terms)))
                run.terms = None
            del number, terms
            self.per_term = np.zeros(len(self.terms), dtype=np.int64)
            for run, where in zip(runs, self.where):
                self.per_term[where] += run.per_term
        self.term_ends = np.cumsum(self.per_term, dtype=np.int64)

    def read(self, first: int, last: int):
        """``(docs, counts, deltas)`` of the terms ``first`` to ``last``, in term order."""
        if len(self.runs) == 1:
            return self.runs[0].read(first, last)
        parts = []
        for run, where in zip(self.runs, self.where):
            a = int(np.searchsorted(where, first, side="left"))
            b = int(np.searchsorted(where, last, side="left"))
            if a < b:
                parts.append((run.read(a, b), np.repeat(where[a:b], run.per_term[a:b])))
        if len(parts) == 1:
            return parts[0][0]
        # the parts follow one another run after run: a stable sort by term keeps
        # each term's postings in run order
        order = np.argsort(np.concatenate([terms for _, terms in parts]), kind="stable")
        docs = np.concatenate([read[0] for read, _ in parts])[order]
        counts = np.concatenate([read[1] for read, _ in parts])
        deltas = None
        if parts[0][0][2] is not None:
            starts = np.cumsum(counts, dtype=np.int64)
            starts -= counts
            deltas = _gather(np.concatenate([read[2] for read, _ in parts]), starts[order],
                             counts[order])
        return docs, counts[order], deltas


_GATHER = 1 << 20  # postings whose positions are gathered at a time


def _gather(values: np.ndarray, starts: np.ndarray, counts: np.ndarray,
            deltas: bool = False) -> np.ndarray:
    """``values[starts[i]:starts[i] + counts[i]]`` for every ``i``, one after another; with
    ``deltas``, each piece as the differences between its values, its first value kept
    (Whoosh's position deltas from the positions of a posting)."""
    result = np.empty(int(counts.sum(dtype=np.int64)), dtype=np.int32 if deltas else values.dtype)
    at = 0
    for begin in range(0, len(counts), _GATHER):
        c = counts[begin:begin + _GATHER].astype(np.int64)
        total = int(c.sum())
        local = np.cumsum(c)
        local -= c
        index = np.repeat(starts[begin:begin + _GATHER].astype(np.int64) - local, c)
        index += np.arange(total, dtype=np.int64)
        piece = values[index]
        del index
        out = result[at:at + total]
        if deltas:
            # differences across postings wrap around; they are overwritten just below
            np.subtract(piece[1:], piece[:-1], out=out[1:], casting="unsafe")
            out[local[c > 0]] = piece[local[c > 0]]
        else:
            out[:] = piece
        at += total
    return result


_BYTE_LENGTHS = np.array(BYTE_LENGTHS, dtype=np.int64)


def _quantise(lengths: np.ndarray) -> np.ndarray:
    """Field lengths as Whoosh reads them back: through its one-byte encoding."""
    codes = np.minimum(np.searchsorted(_BYTE_LENGTHS, lengths, side="left"), 255)
    result = _BYTE_LENGTHS[codes]
    result[lengths == 0] = 0
    return result


def _terms_in_order(postings):
    """A field's terms in UTF-8, sorted as Whoosh orders them (by their bytes), the number
    of postings of each, and the order that sorts the postings by term (stable: by document
    within a term)."""
    terms = sorted((term.encode("utf-8"), tid) for term, tid in postings.term_ids.items())
    rank = np.empty(len(terms), dtype=np.uint32)
    rank[np.array([tid for _, tid in terms], dtype=np.int64)] = np.arange(len(terms), dtype=np.uint32)
    ranks = rank[np.frombuffer(postings.tids, dtype=np.uint32)]
    per_term = np.bincount(ranks, minlength=len(terms))
    return [term for term, _ in terms], per_term, np.argsort(ranks, kind="stable")


def _fork(work) -> int:
    """The id of a forked process that runs ``work()``, then leaves without running any
    cleanup (status 0, or 1 after printing the error)."""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            end_with_parent()
            work()
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    return pid


def _wait(pid: int | None, what: str) -> None:
    """Wait for a process of :func:`_fork`; an error if its work failed."""
    if pid is not None:
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise RuntimeError(f"{what} failed (status {status})")


def _stop(pid: int | None) -> None:
    """Kill a process of :func:`_fork` and wait for it to end."""
    if pid is not None:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass


class _Helper:
    """A forked process that writes some terms' postings (``work(writer, rows)``) to a
    file of its own, for :meth:`join` to append to the real postings file."""

    def __init__(self, term_writer: TermWriter, work, folder: str | None = None):
        self.term_writer = term_writer
        self.work = work
        self.pid = None
        # inside the new generation when there is one: removed with it if the build dies
        self.folder = tempfile.mkdtemp(prefix=".postings-", dir=folder)
        self.blocks = os.path.join(self.folder, "blocks")
        self.rows = os.path.join(self.folder, "rows")

    def __enter__(self):
        self.pid = _fork(self._write)
        return self

    def _write(self) -> None:
        with open(self.blocks, "wb") as handle:
            writer = self.term_writer.to(handle)
            out: list = []
            self.work(writer, out)
        with open(self.rows, "wb") as handle:
            pickle.dump(out, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def join(self, postfile) -> list:
        """Wait for the process, append its blocks to ``postfile``; its rows, moved there."""
        pid, self.pid = self.pid, None
        _wait(pid, "writing index postings")
        base = postfile.tell()
        with open(self.blocks, "rb") as handle:
            while True:
                data = handle.read(1 << 22)
                if not data:
                    break
                postfile.write(data)
        with open(self.rows, "rb") as handle:
            rows = pickle.load(handle)
        return internals.moved_rows(rows, base)

    def __exit__(self, *exc):
        _stop(self.pid)
        self.pid = None
        shutil.rmtree(self.folder, ignore_errors=True)
        return False


__all__ = ["SegmentBuilder"]

