"""The re-ranking reads where the query's stems stand from the index: the same features
as analysing each hit's stored text, on real articles (the Whoosh session index; the
Xapian backend is compared in test_xapian_cluster.py)."""

from __future__ import annotations

from support.ranking import compare_features, remembered_queries


def test_positions_from_the_index_equal_the_analysed_text(news_index, news_engine):
    records = list(news_index.fang.values())
    seen = compare_features(news_engine, remembered_queries(records, 40))
    # Real work was compared: many hits, and each feature non-zero in many of them.
    assert seen["hits"] > 500, seen
    assert min(seen["window"], seen["pairs"], seen["title"]) > 30, seen
