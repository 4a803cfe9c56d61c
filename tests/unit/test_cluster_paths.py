"""The three ways :class:`search.duplicates.Clusters` finds near-duplicates give one answer.

A run that re-clusters every article groups them by band with numpy sorts; one
that re-clusters many asks datasketch's LSH index; one that re-clusters a few
compares their signatures with every stored one (the setting
``duplicate_scan_limit`` chooses). On 300 real FANG texts and near-copies of
some of them (a sentence dropped, a word changed), every way must give the same
cluster to every article, on a first run and on a run that changes a third of
the articles.
"""

from __future__ import annotations

import random

from search import Settings
from search.duplicates import Clusters, Signing, signatures


def near_copies(texts: list[str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    copies = []
    for text in rng.sample(texts, count):
        words = text.split()
        at = rng.randrange(len(words))
        if rng.random() < 0.5:
            words[at] = words[at].upper() + "x"
        else:
            del words[at:at + 8]
        copies.append(" ".join(words))
    return copies


def clustered(settings: Settings, batches: list[dict]) -> dict:
    clusters = Clusters.for_settings(settings)
    for batch in batches:
        for article_id, value in batch.items():
            clusters.put(article_id, value)
        clusters.update()
    return {article_id: clusters.cluster_of(article_id) for article_id in clusters.rows}


def test_every_way_of_clustering_gives_the_same_clusters(fang000):
    settings = Settings(duplicate_threshold=0.6)
    signing = Signing.of(settings)
    texts = [record["article"] for record in fang000[:300]]
    texts += near_copies(texts, 60, seed=1)
    values = signatures(texts, signing)
    first = {f"a{n:04d}": value for n, value in enumerate(values)}
    changed_texts = near_copies(texts, 120, seed=2)
    second = {f"a{n:04d}": value
              for n, value in zip(range(0, 360, 3), signatures(changed_texts, signing))}
    ways = {"scan": settings.with_changes(duplicate_scan_limit=100_000),
            "lsh and arrays": settings.with_changes(duplicate_scan_limit=0)}
    once = {name: clustered(s, [first]) for name, s in ways.items()}
    assert once["scan"] == once["lsh and arrays"]
    assert sum(1 for a, c in once["scan"].items() if a != c) >= 45  # the copies are found
    twice = {name: clustered(s, [first, second]) for name, s in ways.items()}
    assert twice["scan"] == twice["lsh and arrays"]
    rebuilt = clustered(settings.with_changes(duplicate_scan_limit=0), [{**first, **second}])
    assert twice["scan"] == rebuilt
