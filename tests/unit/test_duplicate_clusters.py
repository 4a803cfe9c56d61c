"""Near-duplicate clusters of many articles at once (search.duplicates.Clusters): the
candidates come from sorted band keys, in memory that does not grow by kilobytes per
article, and they give the same clusters as comparing every signature directly."""

from __future__ import annotations

import tracemalloc

import numpy as np

from search.duplicates import Clusters, Signing

SIGNING = Signing(True, 128, 5, 30)


def _signatures(seed: int = 7, originals: int = 3000, copies: int = 1500) -> np.ndarray:
    """Random signatures and copies of some of them with a share of their values changed,
    from none to well under the threshold."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**32, size=(originals, 128), dtype=np.uint32)
    made = [base]
    for share in (0.0, 0.2, 0.3, 0.5):
        copy = base[rng.choice(originals, copies // 4, replace=False)].copy()
        changed = rng.random(copy.shape) < share
        copy[changed] = rng.integers(0, 2**32, size=int(changed.sum()), dtype=np.uint32)
        made.append(copy)
    return np.concatenate(made)


def _clusters(signatures: np.ndarray, scan_limit: int) -> Clusters:
    clusters = Clusters(SIGNING, 0.7, 0.95, scan_limit=scan_limit)
    for number, signature in enumerate(signatures):
        clusters.put(f"a{number:05d}", signature)
    return clusters


def test_clustering_many_articles_takes_little_memory_per_article():
    signatures = _signatures()
    _clusters(signatures[:300], scan_limit=0).update()  # imports what every update needs
    clusters = _clusters(signatures, scan_limit=0)  # the band keys, however few change
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        clusters.update()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    # datasketch's LSH index of the same signatures took about 6.5 KB per article
    assert peak / len(signatures) < 2048, f"{peak / len(signatures):.0f} bytes per article"
    summary = clusters.summary()
    assert summary["clusters"] >= 700 and summary["articles"] >= 1400


def test_band_keys_and_direct_comparison_give_the_same_clusters():
    signatures = _signatures(seed=11, originals=600, copies=400)
    by_keys = _clusters(signatures, scan_limit=0)
    directly = _clusters(signatures, scan_limit=10**6)
    assert by_keys.update() == directly.update()
    assert by_keys.members() == directly.members() and by_keys.members()
    for number in range(0, len(signatures), 7):  # and again after removals
        by_keys.remove(f"a{number:05d}")
        directly.remove(f"a{number:05d}")
    assert by_keys.update() == directly.update()
    assert by_keys.members() == directly.members()
