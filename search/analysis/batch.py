"""Analysing many articles at once: words to index terms with array operations.

The per-article path (:meth:`LanguageChain.terms_of_tokens`, grouping positions,
:meth:`CompoundSplitter.part_counts`, :func:`spelling.surface_words_of_tokens`)
spends a few microseconds of Python per word: a dict lookup, a list append, a
position appended to its term's list, a counter bumped. On a 2-core machine that
was much of the build (py-spy of a 10,000-article build: grouping positions,
term chains, compound parts and vocabulary counts were a third of all samples).

Here a batch of articles (one part of a corpus file: a few hundred articles) is
analysed in one go, and no Python code runs per word: what touches every word is
``WORD.findall`` of each lowercased field and one ``map`` of a dict's ``get`` into
``numpy.fromiter``, both in C:

1. the words of each field of each article are what ``WORD`` finds in it,
   lowercased;
2. every word is looked up in the process's table of words; words met for the
   first time are added: stopword and length checks, one ``stemWords`` call for
   all new words of the batch, their terms numbered in the process's term table,
   and the vocabulary words each holds (see :mod:`.spelling`);
3. word numbers become term numbers by indexing an array; stopwords drop out;
4. a stable sort of (document, term) keys groups the terms of each document:
   the postings (document, term, count) are the runs of equal keys, and the
   positions of each posting follow in ascending order;
5. the parts of German compounds: each distinct term of the batch is split once
   (the splitter caches its answers), the title and text postings are expanded
   to their parts with ``numpy.repeat`` and summed per (document, part);
6. the vocabulary counts (in how many articles each word occurs) come from the
   distinct (document, word) pairs of the batch.

An article whose lowercasing changes its words (İ, Σ; see
:func:`.chains.lowercase_keeps_words`) has its words found one by one by
:meth:`LanguageChain.tokens` instead, as the per-article path does.

The result, :class:`AnalysedBatch`, holds the batch's terms once and flat
arrays per field; it pickles as a few buffers, which is what the worker
processes send to the indexer. It gives the same terms, positions, counts, parts
and vocabulary words as the per-article path (``tests/test_batch_analysis.py``
compares them article by article on the shared corpora).

An earlier shape split the text at white space and kept a second table of the
pieces (``merkel,``, ``(merkel``, ``cdu/csu``: 90,000 distinct pieces against
56,000 distinct words in 1,000 FANG articles): ``str.split`` is three times as fast
as ``WORD.findall``, but the pieces filled the tables twice as fast, so that they
started again every second part and most of the analysis was learning pieces and
words anew. With words alone the same 19 parts of FANG (6,000 articles, one
process, the default limit) take 8.3 s instead of 12.4 s, the tables start again
2 times instead of 8, and the memory they hold at most is the same (70.7 against
70.4 MB, tracemalloc).

The word and term tables grow with the corpus; they start again when they hold
more than :data:`TABLE_LIMIT` words (the setting ``analysis_table_words``),
between two batches, and the compound splitter forgets its splits with them, so
a process's memory stays bounded (an :class:`AnalysedBatch` names its own terms).
Measured on the FANG articles of a generated dump: the tables and splits cost
about 380 bytes an entry, so a limit of a million let each worker grow by some
300 MB, 250,000 by some 100 MB. The default, 100,000, keeps the whole build of a
generated 1 GB dump within 1.5 GB (with a 64 MB postings budget, ``writer_memory_mb``;
``benchmarks/bigfile.py``).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np

from ..settings import Settings
from .chains import MAX_WORD_CHARS, WORD, chain_for, lowercase_keeps_words
from .spelling import surface_words, surface_words_of_tokens

# Words in a process's tables before they start again: the setting's default.
TABLE_LIMIT = Settings.analysis_table_words
POSITIONAL = ("title", "text")  # the fields whose positions are kept
PARTS = "parts"  # the field of the parts of compounds


@dataclass
class FieldPostings:
    """One field's postings of a batch, ordered by document.

    ``doc``, ``term`` and ``count`` have one entry per posting (batch document
    number, batch term number, occurrences); ``positions`` (positional fields only)
    holds each posting's positions in ascending order, posting after posting;
    ``lengths`` has one entry per document of the batch: how many terms the field
    holds (the positions count only indexed words).
    """

    doc: np.ndarray
    term: np.ndarray
    count: np.ndarray
    positions: np.ndarray | None
    lengths: np.ndarray

    def starts(self) -> np.ndarray:
        """Where each document's postings begin (one more entry for the end)."""
        return np.searchsorted(self.doc, np.arange(len(self.lengths) + 1), side="left")

    def position_starts(self) -> np.ndarray:
        """Where each posting's positions begin in ``positions`` (one more for the end)."""
        starts = np.zeros(len(self.count) + 1, dtype=np.int64)
        np.cumsum(self.count, out=starts[1:])
        return starts


@dataclass
class AnalysedBatch:
    """The analysis of a batch of articles: ``terms`` (the batch's term numbers name
    these), the postings of each field, and ``words``: each vocabulary word of the
    batch with the number of its articles that hold it; when asked for, also
    ``document_words``: the vocabulary words of each article (``words_of``)."""

    terms: list[str]
    fields: dict[str, FieldPostings]
    words: dict[str, int] = field(default_factory=dict)
    # (batch document numbers, their words) in document order, when asked for
    document_words: tuple[np.ndarray, list[str]] | None = None
    # The words of each text, stopwords included, when asked for: (the document of each
    # word, its number in ``strings``) in document and text order, and ``strings``
    text_words: tuple[np.ndarray, np.ndarray, list[str]] | None = None
    _starts: dict | None = field(default=None, repr=False, compare=False)

    def words_of(self, number: int) -> set[str]:
        """The vocabulary words of document ``number`` (``spelling.surface_words`` of its
        title and text); the batch must have been analysed with ``document_words``."""
        docs, words = self.document_words
        begin, end = np.searchsorted(docs, [number, number + 1], side="left")
        return set(words[int(begin):int(end)])

    @property
    def size(self) -> int:
        return len(self.fields["text"].lengths)

    def grouped(self, number: int) -> dict:
        """Document ``number``'s fields as ``(terms, counts, positions)``: for
        ``title`` and ``text`` the positions grouped term by term as the counts say,
        for ``parts`` ``None``."""
        if self._starts is None:
            self._starts = {name: (p.starts(), p.position_starts() if p.positions is not None
                                   else None) for name, p in self.fields.items()}
        out = {}
        for name, postings in self.fields.items():
            starts, position_starts = self._starts[name]
            begin, end = int(starts[number]), int(starts[number + 1])
            terms = [self.terms[t] for t in postings.term[begin:end].tolist()]
            counts = postings.count[begin:end].tolist()
            flat = None
            if position_starts is not None:
                flat = postings.positions[position_starts[begin]:position_starts[end]].tolist()
            out[name] = (terms, counts, flat)
        return out

    def term_lists(self, number: int) -> dict[str, list[str]]:
        """Document ``number``'s term list of each field: ``title`` and ``text`` in
        word order, ``parts`` each part as often as it occurs."""
        out = {}
        for name, (terms, counts, flat) in self.grouped(number).items():
            if flat is None:
                out[name] = [t for t, c in zip(terms, counts) for _ in range(c)]
                continue
            ordered: list = [None] * len(flat)
            at = 0
            for term, count in zip(terms, counts):
                for position in flat[at:at + count]:
                    ordered[position] = term
                at += count
            out[name] = ordered
        return out


class _Words:
    """One language's words met so far: word → number, and per number its term
    number (-1: a stopword or too long) and its vocabulary words (ranges of
    ``surface``)."""

    def __init__(self, lang: str, tables: "BatchAnalyser"):
        self.chain = chain_for(lang)
        self.tables = tables
        self.ids: dict[str, int] = {}
        self.strings: list[str] = []  # number -> word
        self.term = array("i")
        self.surface_ends = array("q")
        self.surface = array("i")

    def __len__(self) -> int:
        return len(self.ids)

    def learn(self, words: set[str]) -> None:
        chain = self.chain
        stop = chain.stopwords
        words = sorted(words)
        indexed = [w for w in words if w not in stop and len(w) <= MAX_WORD_CHARS]
        stems = dict(zip(indexed, chain.stems(indexed)))
        term_number = self.tables.term_number
        surface_number = self.tables.surface_number
        ids = self.ids
        self.strings.extend(words)
        for word in words:
            ids[word] = len(ids)
            stem = stems.get(word)
            self.term.append(-1 if stem is None else term_number(stem))
            # what surface_words_of_tokens takes from a token
            if len(word) >= 3:
                if word.isalpha() and len(word) <= 40:
                    self.surface.append(surface_number(word))
                else:
                    self.surface.extend(surface_number(w)
                                        for w in surface_words_of_tokens([word]))
            self.surface_ends.append(len(self.surface))

    def numbers(self, words: list[str]) -> np.ndarray:
        """The word numbers of ``words``, learning the new ones."""
        get = self.ids.get
        try:
            return np.fromiter(map(get, words), dtype=np.int64, count=len(words))
        except TypeError:  # some word is new
            self.learn(set(words).difference(self.ids))
            return np.fromiter(map(get, words), dtype=np.int64, count=len(words))

class BatchAnalyser:
    """A process's word and term tables, and :meth:`analyse`; see the module's text."""

    def __init__(self, table_limit: int = TABLE_LIMIT):
        self.table_limit = table_limit
        self._reset()

    def _reset(self) -> None:
        self.words: dict[str, _Words] = {}
        self.term_ids: dict[str, int] = {}
        self.term_strings: list[str] = []
        self.term_parts: list[tuple[int, ...] | None] = []
        self.surface_ids: dict[str, int] = {}
        self.surface_strings: list[str] = []

    def term_number(self, term: str) -> int:
        number = self.term_ids.get(term)
        if number is None:
            number = self.term_ids[term] = len(self.term_strings)
            self.term_strings.append(term)
            self.term_parts.append(None)
        return number

    def surface_number(self, word: str) -> int:
        number = self.surface_ids.get(word)
        if number is None:
            number = self.surface_ids[word] = len(self.surface_strings)
            self.surface_strings.append(word)
        return number

    def _table(self, lang: str) -> _Words:
        table = self.words.get(lang)
        if table is None:
            table = self.words[lang] = _Words(lang, self)
        return table

    # -- the batch -----------------------------------------------------------

    def analyse(self, articles, document_words: bool = False,
                text_words: bool = False) -> AnalysedBatch:
        """The analysis of ``articles``, each ``(lang, title, text)``; with
        ``document_words``, the batch also names each article's vocabulary words, with
        ``text_words`` the words of each text (``AnalysedBatch.text_words``)."""
        if sum(len(table) for table in self.words.values()) > self.table_limit:
            self._reset()
            from .compounds import german_splitter

            german_splitter().forget()
        articles = list(articles)
        size = len(articles)
        # Runs of consecutive articles in one language whose lowercasing keeps their
        # words: the words of the lowercased texts are their lowercased words.
        # An article whose lowercasing changes them (İ, Σ) is a run of its own, its
        # words found one by one (LanguageChain.tokens).
        runs: list[tuple[str, bool, list[int]]] = []
        for number, (lang, title, text) in enumerate(articles):
            lang = chain_for(lang).lang
            plain = lowercase_keeps_words(title) and lowercase_keeps_words(text)
            if plain and runs and runs[-1][0] == lang and runs[-1][1]:
                runs[-1][2].append(number)
            else:
                runs.append((lang, plain, [number]))

        fields: dict[str, FieldPostings] = {}
        word_pairs = []  # (document, surface word) of every token's vocabulary words
        extra_words: list = []  # (number, vocabulary words) of the other articles
        texts: list = []  # (documents, word numbers, table) of each run's text words
        for position, name in enumerate(POSITIONAL):
            docs_parts, terms_parts = [], []
            for lang, plain, numbers in runs:
                table = self._table(lang)
                if plain:
                    tokens: list[str] = []
                    lengths = []
                    findall = WORD.findall
                    for number in numbers:
                        found = findall(articles[number][1 + position].lower())
                        tokens.extend(found)
                        lengths.append(len(found))
                    words = table.numbers(tokens)
                    docs = np.repeat(np.asarray(numbers, dtype=np.int64), lengths)
                else:
                    number, = numbers
                    _, title, text = articles[number]
                    found = table.chain.tokens(articles[number][1 + position])
                    words = table.numbers(found)
                    docs = np.full(len(words), number, dtype=np.int64)
                    if position == 0:
                        extra_words.append((number, surface_words(title + "\n" + text)))
                docs_parts.append(docs)
                terms_parts.append(np.frombuffer(table.term, dtype=np.int32)[words])
                if text_words and name == "text":
                    texts.append((docs, words, table))
                if plain:
                    word_pairs.append(self._word_pairs(table, docs, words))
            # the runs follow one another: their tokens are in document order
            fields[name] = _positional(_joined(docs_parts), _joined(terms_parts), size)

        splitting = np.zeros(size, dtype=bool)
        for lang, _, numbers in runs:
            if chain_for(lang).splits_compounds:
                splitting[numbers] = True
        fields[PARTS] = self._parts(fields, splitting, size)
        for number, extra in extra_words:
            word_pairs.append(np.array([(number << 32) | self.surface_number(word)
                                        for word in extra], dtype=np.int64))
        pairs = _distinct(np.concatenate(word_pairs)) if word_pairs else np.empty(0, np.int64)
        batch = self._renumbered(fields, self._vocabulary(pairs))
        if text_words:
            batch.text_words = _text_words(texts)
        if document_words:
            strings = self.surface_strings
            batch.document_words = ((pairs >> 32).astype(np.int32),
                                    [strings[n] for n in (pairs & 0xFFFFFFFF).tolist()])
        return batch

    def _word_pairs(self, table: _Words, docs: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        """The distinct (document, vocabulary word) pairs of these words, as keys
        ``document << 32 | word``."""
        pairs = _distinct((docs << 32) | numbers)
        words = pairs & 0xFFFFFFFF
        ends = np.frombuffer(table.surface_ends, dtype=np.int64)
        stop = ends[words]
        begin = np.where(words > 0, ends[words - 1], 0)
        sizes = stop - begin
        surface = np.frombuffer(table.surface, dtype=np.int32)[ranges(begin, sizes)]
        return (np.repeat(pairs >> 32, sizes) << 32) | surface

    def _vocabulary(self, pairs: np.ndarray) -> dict[str, int]:
        """Each word of the distinct (document, word) ``pairs`` with its documents."""
        found = np.bincount(pairs & 0xFFFFFFFF)
        numbers = np.flatnonzero(found)
        strings = self.surface_strings
        return dict(zip([strings[n] for n in numbers.tolist()], found[numbers].tolist()))

    def _parts(self, fields: dict, splitting: np.ndarray, size: int) -> FieldPostings:
        """The parts of the compounds among the title and text terms of the articles in a
        language that splits them; each part counted as often as its compounds occur."""
        docs = np.concatenate([fields[n].doc for n in POSITIONAL])
        terms = np.concatenate([fields[n].term for n in POSITIONAL])
        counts = np.concatenate([fields[n].count for n in POSITIONAL])
        keep = splitting[docs]
        docs, terms, counts = docs[keep], terms[keep], counts[keep]
        distinct = np.flatnonzero(np.bincount(terms, minlength=len(self.term_strings)))
        if len(distinct):
            from .compounds import german_splitter

            split = german_splitter().split
            strings = self.term_strings
            known = self.term_parts
            number = self.term_number
            for term in distinct.tolist():
                if known[term] is None:
                    known[term] = tuple(number(p) for p in split(strings[term]))
        parts_of = self.term_parts
        sizes_of = np.zeros(len(self.term_strings), dtype=np.int64)
        lists = [parts_of[t] for t in distinct.tolist()]
        sizes_of[distinct] = [len(p) for p in lists]
        offsets = np.zeros(len(self.term_strings), dtype=np.int64)
        flat = np.fromiter((p for parts in lists for p in parts), dtype=np.int64,
                           count=int(sizes_of[distinct].sum()))
        offsets[distinct] = np.cumsum(sizes_of[distinct]) - sizes_of[distinct]
        sizes = sizes_of[terms]
        parts = flat[ranges(offsets[terms], sizes)]
        docs = np.repeat(docs, sizes)
        counts = np.repeat(counts, sizes)
        keys = docs * len(self.term_strings) + parts
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        firsts = _run_starts(keys)
        summed = np.add.reduceat(counts[order], firsts) if len(firsts) else counts[:0]
        docs = docs[order][firsts]
        lengths = np.bincount(docs, weights=summed, minlength=size).astype(np.int64)
        return FieldPostings(docs, parts[order][firsts], summed, None, lengths)

    def _renumbered(self, fields: dict, words: dict) -> AnalysedBatch:
        """The batch with its own term numbers (0..n-1), naming only the terms it uses."""
        strings = self.term_strings
        used, inverse = _numbering(np.concatenate([f.term for f in fields.values()]),
                                   len(strings))
        terms = [strings[t] for t in used.tolist()]
        for postings in fields.values():
            postings.term = inverse[postings.term].astype(np.int32)
            postings.doc = postings.doc.astype(np.int32)
            postings.count = postings.count.astype(np.int32)
            postings.lengths = postings.lengths.astype(np.int32)
            if postings.positions is not None:
                postings.positions = postings.positions.astype(np.int32)
        return AnalysedBatch(terms, fields, words)


def _text_words(runs: list) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The words of the runs' texts numbered among the distinct words of the batch."""
    docs, numbers, strings = [], [], []
    for run_docs, words, table in runs:
        distinct, inverse = _numbering(words, len(table.strings))
        numbers.append(inverse[words] + len(strings))
        strings.extend(table.strings[n] for n in distinct.tolist())
        docs.append(run_docs)
    return (_joined(docs).astype(np.int32), _joined(numbers).astype(np.int32), strings)


def _numbering(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``values`` (numbers below ``size``), ascending, and an array that
    gives each value its place among them: a count and a gather, where a sort and a
    binary search of every value took a twentieth of the workers' time."""
    distinct = np.flatnonzero(np.bincount(values, minlength=size))
    inverse = np.zeros(max(size, 1), dtype=np.int64)
    inverse[distinct] = np.arange(len(distinct), dtype=np.int64)
    return distinct, inverse


def _positional(docs: np.ndarray, terms: np.ndarray, size: int) -> FieldPostings:
    """Postings with positions from the term of every token (-1: not indexed) and
    its document, tokens in document order."""
    keep = terms >= 0
    docs, terms = docs[keep], terms[keep]
    lengths = np.bincount(docs, minlength=size)
    starts = np.cumsum(lengths) - lengths
    positions = np.arange(len(docs), dtype=np.int64) - starts[docs]
    span = int(terms.max()) + 1 if len(terms) else 1
    keys = docs * span + terms
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    firsts = _run_starts(keys)
    counts = np.diff(np.append(firsts, len(keys)))
    return FieldPostings(docs[order][firsts], terms[order][firsts], counts,
                         positions[order], lengths)


def _joined(parts: list) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else \
        np.empty(0, dtype=np.int64)


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending (a sort: numpy's hashing ``unique`` is several
    times slower on these integer keys)."""
    ordered = np.sort(values)
    return ordered[_run_starts(ordered)]


def _run_starts(keys: np.ndarray) -> np.ndarray:
    """Where each run of equal values of the sorted ``keys`` begins."""
    if not len(keys):
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def ranges(begins: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``begin, begin + 1, …, begin + size - 1`` for each pair, one range after another."""
    total = int(sizes.sum())
    if not total:
        return np.empty(0, dtype=np.int64)
    ends = np.cumsum(sizes)
    return np.arange(total, dtype=np.int64) + np.repeat(begins - (ends - sizes), sizes)


_analyser: BatchAnalyser | None = None


def batch_analyser() -> BatchAnalyser:
    """The process's analyser (its tables serve every batch the process analyses)."""
    global _analyser
    if _analyser is None:
        _analyser = BatchAnalyser()
    return _analyser


def analyse_batch(articles, document_words: bool = False,
                  text_words: bool = False, table_limit: int | None = None) -> AnalysedBatch:
    """:meth:`BatchAnalyser.analyse` with the process's analyser (``table_limit``: the
    words its tables hold before they start again)."""
    analyser = batch_analyser()
    if table_limit is not None:
        analyser.table_limit = table_limit
    return analyser.analyse(articles, document_words, text_words)
