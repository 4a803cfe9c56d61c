"""The compact posting arrays a fresh build writes give exactly what Whoosh's posting
blocks give, and searches answer alike with and without them.

Real Whoosh indexes on disk built from the real corpora in ../shared/corpora (a
missing corpus fails the test, never skips it); every term of every text field is
compared, not a sample.
"""

from __future__ import annotations

import numpy as np
import pytest
from whoosh import index as whoosh_index

from search import Engine, Settings, index_paths, storage
from search.backends.whoosh import compact, postings
from search.backends.whoosh.internals import INLINE_MAX

from support.corpora import FANG_PARTS, read_fang, write_jsonl

TEXT_FIELDS = ("title", "text", "parts")


def _segment_readers(index_dir):
    ix = whoosh_index.open_dir(str(storage.require_generation(index_dir)))
    reader = ix.reader()
    return ix, reader, (list(reader.readers) if hasattr(reader, "readers") else [reader])


def _compare_every_term(index_dir) -> int:
    """Compares compact and block postings (and positions, in the fields that keep them)
    of every term, read as a search reads them with and without the compact arrays;
    the number of terms compared."""
    ix, reader, segment_readers = _segment_readers(index_dir)
    compared = 0
    postings.clear_caches()
    try:
        for number, segment_reader in enumerate(segment_readers):
            arrays = postings.SegmentArrays(segment_reader, ("compact", number), Settings())
            blocks_only = postings.SegmentArrays(segment_reader, ("blocks", number),
                                                 Settings(compact_postings=False))
            found = arrays.compact
            assert found is not None, "a freshly built segment has compact postings"
            assert blocks_only.compact is None
            assert found.has_positions("text") and found.has_positions("title")
            assert not found.has_positions("parts")  # a field without positions
            for field, text in segment_reader.all_terms():
                if field not in TEXT_FIELDS:
                    continue
                info = segment_reader.term_info(field, text)
                if info.is_inlined():
                    assert info.doc_frequency() <= INLINE_MAX
                    continue
                assert found.postings(field, info.extent()[0]) is not None, (field, text)
                got = postings.term_postings(segment_reader, arrays, field, text)
                blocks = postings.term_postings(segment_reader, blocks_only, field, text)
                assert len(got[0]) == info.doc_frequency(), (field, text)
                assert np.array_equal(got[0], blocks[0]), (field, text)
                assert np.array_equal(got[1], blocks[1]), (field, text)
                if found.has_positions(field):
                    held = postings.term_positions(segment_reader, arrays, field, text)
                    decoded = postings.term_positions(segment_reader, blocks_only, field, text)
                    for a, b in zip(held, decoded):
                        assert np.array_equal(a, b), (field, text)
                compared += 1
    finally:
        postings.clear_caches()
        reader.close()
        ix.close()
    return compared


def test_every_term_of_the_news_index_reads_alike(news_index):
    generation = storage.require_generation(news_index.index_dir)
    assert list(generation.glob(f"*{compact.SUFFIX}")), "the build wrote no compact postings"
    assert _compare_every_term(news_index.index_dir) > 20_000


def test_a_build_merged_from_runs_in_two_halves_reads_alike(tmp_path):
    """Runs spilled under a tiny memory budget and each field written by two processes:
    the compact arrays of both halves are joined in term order."""
    records = read_fang(FANG_PARTS[0])[:400]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "articles.jsonl", records)
    index_dir = tmp_path / "ix"
    report = index_paths([corpus], Settings(index_dir=index_dir, writer_memory_mb=1,
                                            min_run_postings=30_000, split_min_postings=1))
    assert report.added == len(records) and not report.problems
    assert _compare_every_term(index_dir) > 5_000
    assert not list(storage.require_generation(index_dir).glob(".compact-*"))


def test_searches_answer_alike_without_the_compact_arrays(news_index):
    queries = ["Corona", "Virus Wuhan", "Maske Pflicht", '"Robert Koch-Institut"',
               "Häuser", "Flüchtlingspolitik", "Bundesregierung -Merkel", "Schul*",
               "Gesundheit OR Krankenhaus", "Trump China Handel", '"in der"',
               '"mehr als" Prozent', '"neue Fälle"', '"Angela Merkel" Maske']

    def answers(engine):
        postings.clear_caches()
        out = []
        for text in queries:
            page = engine.search(text, per_page=30).to_dict()
            out.append((page["total"], [(h["id"], h["score"], h["snippet"])
                                        for h in page["hits"]], page["facets"]))
        return out

    # both open at once: what each reads of a segment is kept apart
    with Engine(Settings(index_dir=news_index.index_dir)) as compact_engine, \
            Engine(Settings(index_dir=news_index.index_dir, compact_postings=False)) as blocks:
        for _ in range(2):
            decoded = postings.BLOCKS_DECODED[0]
            with_compact = answers(compact_engine)
            assert postings.BLOCKS_DECODED[0] == decoded  # no text field's blocks were read
            without = answers(blocks)
            assert postings.BLOCKS_DECODED[0] > decoded
            assert with_compact == without
    postings.clear_caches()
    assert sum(total for total, _, _ in with_compact) > 1000


def test_wide_gaps_and_high_frequencies_are_kept_apart(tmp_path):
    """Gaps of 65,536 documents or more, frequencies of 255 or more and position deltas
    of 65,536 or more do not fit the small arrays: they are listed apart and put back
    when read, across parts."""
    rng = np.random.default_rng(7)
    terms = []  # (docs, freqs) of each term
    for count in (3, 5, 200, 4, 1000, 3):
        docs = np.sort(rng.choice(300_000, size=count, replace=False)).astype(np.uint32)
        freqs = rng.integers(1, 400, size=count).astype(np.uint32)
        terms.append((docs, freqs))
    terms.append((np.array([0, 70_000, 70_001, 200_000], np.uint32),
                  np.array([255, 254, 1000, 1], np.uint32)))
    deltas = [rng.integers(0, 70_000, size=int(freqs.sum())) for _, freqs in terms]
    parts = []
    for number, (begin, end) in enumerate(((0, 3), (3, len(terms)))):
        part = compact.FieldPart(str(tmp_path / f"part{number}"))
        for (docs, freqs), some in zip(terms[begin:end], deltas[begin:end]):
            part.add(docs, freqs, np.array([len(docs)]), some)  # one term per batch
        part.close()
        parts.append(part.folder)
    keys = [1000 + 10 * i for i in range(len(terms))]
    path = tmp_path / "segment.npst"
    writer = compact.CompactWriter(str(path))
    writer.add_field("text", keys, parts)
    writer.close()
    reader = compact.CompactPostings(str(path))
    assert reader.has_field("text") and not reader.has_field("title")
    for key, (docs, freqs) in zip(keys, terms):
        got_docs, got_freqs = reader.postings("text", key)
        assert got_docs.tolist() == docs.tolist()
        assert got_freqs.tolist() == freqs.astype(float).tolist()
        held_docs, sizes, held = reader.positions("text", key)
        assert held_docs.tolist() == docs.tolist() and sizes.tolist() == freqs.tolist()
        assert held.tolist() == deltas[keys.index(key)].tolist()
    assert any((d >= 65_536).any() for d in deltas)  # some were kept apart
    assert reader.postings("text", 1005) is None  # no term's postings lie there
    assert reader.postings("title", keys[0]) is None


def test_a_damaged_compact_file_is_not_used(tmp_path):
    path = tmp_path / "MAIN_x.npst"
    path.write_bytes(b"NSPOSTS1 but cut short")

    class Segment:
        def make_filename(self, ext):
            return "MAIN_x" + ext

    assert compact.open_compact(str(tmp_path), Segment()) is None
    path.unlink()
    assert compact.open_compact(str(tmp_path), Segment()) is None


def test_term_table_and_arrays_must_agree(tmp_path):
    part = compact.FieldPart(str(tmp_path / "part"))
    part.add(np.array([1, 2, 3], np.uint32), np.array([1, 1, 1], np.uint32), np.array([3]))
    part.close()
    writer = compact.CompactWriter(str(tmp_path / "s.npst"))
    with pytest.raises(ValueError, match="1 in the compact postings"):
        writer.add_field("text", [10, 20], [part.folder])
    writer.abandon()
    assert not (tmp_path / "s.npst").exists()
