"""A segment's term table read through a memory map (``internals.map_term_table``, what
every searcher of the engine does) answers every look-up as Whoosh's own reader does:
membership, document frequency and term info of every term of every field, and of
terms that are not there."""

from __future__ import annotations

import pytest
from whoosh import index as whoosh_index
from whoosh.reading import TermNotFound

from search import storage
from search.backends.whoosh import internals


def _leaf_readers(index_dir):
    ix = whoosh_index.open_dir(str(storage.require_generation(index_dir)))
    reader = ix.reader()
    return ix, reader, (list(reader.readers) if hasattr(reader, "readers") else [reader])


def _info(reader, field, text):
    try:
        info = reader.term_info(field, text)
    except TermNotFound:
        return None
    return repr(sorted(vars(info).items()))  # every figure, the inlined postings too


def test_mapped_term_tables_answer_as_whoosh_reads_them(news_index):
    ix, reader, plain = _leaf_readers(news_index.index_dir)
    ix2, reader2, mapped = _leaf_readers(news_index.index_dir)
    try:
        for leaf in mapped:
            assert internals.map_term_table(leaf)
            assert not internals.map_term_table(leaf)  # mapped once
        compared = 0
        for ours, theirs in zip(mapped, plain):
            for field, text in theirs.all_terms():
                absent = (text + b"\x00x", b"q" + text) if compared % 8 == 0 else ()
                for asked in (text, *absent):
                    present = (field, asked) in theirs
                    assert ((field, asked) in ours) == present
                    assert _info(ours, field, asked) == _info(theirs, field, asked)
                    if present:
                        assert ours.doc_frequency(field, asked) == \
                            theirs.doc_frequency(field, asked)
                compared += 1
        assert compared > 50_000
        # listing terms (sequential reads) still works after the map
        assert list(mapped[0].lexicon("lang")) == list(plain[0].lexicon("lang"))
    finally:
        reader.close()
        reader2.close()


def test_the_engine_searches_through_mapped_tables(news_engine):
    with news_engine.session() as session:
        leaves = [leaf.reader() for leaf, _ in session.searcher.leaf_searchers()]
        assert leaves
        # mapped when the searcher was made: mapping again does nothing
        assert not any(internals.map_term_table(leaf) for leaf in leaves)
        assert session.reader.doc_frequency("text", b"corona") > 0
