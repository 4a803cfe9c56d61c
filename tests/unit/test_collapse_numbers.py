"""Collapsing one segment's matches by dense cluster numbers answers what sorting their
keys answers: the same heads, the same count of clusters, the same folded members."""

from __future__ import annotations

import numpy as np

from search.backends.whoosh.collapsing import cluster_codes, collapse


def test_numbers_and_keys_collapse_alike():
    rng = np.random.default_rng(7)
    for trial in range(200):
        documents = int(rng.integers(1, 400))
        # clusters of one to a dozen articles, keys as the column holds them (64-bit hashes)
        clusters = int(rng.integers(1, documents + 1))
        segment_keys = rng.integers(-2**63, 2**63 - 1, size=clusters, dtype=np.int64)[
            rng.integers(0, clusters, size=documents)]
        codes, count = cluster_codes(segment_keys)
        assert count == len(np.unique(segment_keys))
        # the matches: some of the segment's documents, with scores that tie now and then
        matches = np.sort(rng.choice(documents, size=int(rng.integers(1, documents + 1)),
                                     replace=False)).astype(np.int64)
        scores = rng.integers(0, 6, size=len(matches)).astype(np.float64)
        dates = rng.integers(0, 3, size=len(matches)).astype(np.int64)
        first, second = -scores, -dates
        for limit in (1, 3, 10, 30):
            plain = collapse(first, second, matches, segment_keys[matches], limit)
            numbered = collapse(first, second, matches, segment_keys[matches], limit,
                                (codes[matches], count))
            assert plain[0].tolist() == numbered[0].tolist(), (trial, limit)
            assert plain[1] == numbered[1] == len(np.unique(segment_keys[matches]))
            assert [m.tolist() for m in plain[2]] == [m.tolist() for m in numbered[2]]


def test_an_index_without_clusters_has_no_numbers():
    assert cluster_codes(None) is None
