"""Near-duplicate clusters on all FANG articles: what is grouped, how well, at what cost.

    flock /tmp/newssearch-bench.lock python benchmarks/duplicates.py
    flock /tmp/newssearch-bench.lock python benchmarks/duplicates.py --backend xapian --shards 2

In one run, on the same machine:

1. Builds the index of every FANG article twice, with clustering and without
   (``find_duplicates=False``), and times both; then an incremental run that
   adds one article (a near-copy of a clustered one) to each, and one that
   takes it out again.
2. Counts the clusters of two or more articles and the articles in them, at
   the configured threshold and, from the stored signatures alone, at the
   other thresholds asked for (``--thresholds``).
3. Checks the grouping by text similarity, a measure independent of the
   shingles and MinHash: the share of matching words of the two texts
   (``difflib.SequenceMatcher`` on their lowercased words, the first 5,000 of
   each). Two samples of ``--pairs`` pairs each, fixed seed: pairs of articles
   in one cluster (any two members, so chains show), and pairs just under the
   threshold (estimated similarity within 0.1 below it, in different
   clusters: what is missed). A pair counts as the same text when half of
   its words match in order (ratio >= 0.5), as nearly verbatim at 0.8.
4. Times the same queries (``bench.make_queries``: words, pairs, triples,
   phrases, some narrowed to a source or months) collapsed and not, each
   query asked both ways in turns, after warm-up queries that are not measured;
   on Whoosh also on its own search (``fast_search=False``), collapsed with its
   ``collapse`` facet and not: the cost of the array collapse against Whoosh's.

Prints a report and, last, one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from difflib import SequenceMatcher
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402
import corpora  # noqa: E402

SEED = 20240612
SAME_TEXT = 0.5
NEAR_VERBATIM = 0.8
COMPARED_WORDS = 5000


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def read_texts(fang: Path) -> dict[str, dict]:
    records = {}
    for part in corpora.fang_parts(fang):
        with gzip.open(part, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                records[record["id"]] = record
    return records


def text_similarity(first: str, second: str) -> float:
    from search.duplicates import words_of

    a, b = words_of(first)[:COMPARED_WORDS], words_of(second)[:COMPARED_WORDS]
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def store_folder(settings) -> Path:
    from search.backends import backend_name
    from search.storage import current_generation

    if backend_name(settings) == "xapian":
        return Path(settings.index_dir)
    return current_generation(settings.index_dir)


def build(paths, settings, label: str) -> dict:
    from search import index_paths

    started = time.perf_counter()
    report = index_paths(paths, settings, rebuild=True)
    seconds = time.perf_counter() - started
    print(f"  build {label}: {report.documents} articles in {seconds:.1f} s "
          f"({report.documents / seconds:.0f} docs/s)", flush=True)
    return {"seconds": round(seconds, 2), "documents": report.documents,
            "docs_per_second": round(report.documents / seconds, 1)}


def incremental(corpus: Path, settings, copy: dict, label: str) -> dict:
    """One run adding a file with ``copy``, one taking it out again; seconds of each."""
    from search import index_paths

    extra = corpus / "zz-near-copy.jsonl"
    extra.write_text(json.dumps(copy, ensure_ascii=False) + "\n", encoding="utf-8")
    started = time.perf_counter()
    added = index_paths([corpus], settings)
    add_seconds = time.perf_counter() - started
    extra.unlink()
    started = time.perf_counter()
    removed = index_paths([corpus], settings)
    remove_seconds = time.perf_counter() - started
    assert added.added == 1 and removed.removed == 1, (added.to_dict(), removed.to_dict())
    print(f"  incremental {label}: one article added {add_seconds:.2f} s, removed "
          f"{remove_seconds:.2f} s", flush=True)
    return {"add_seconds": round(add_seconds, 2), "remove_seconds": round(remove_seconds, 2)}


def clustered_pairs(members: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [pair for ids in members.values() for pair in combinations(ids, 2)]


def near_misses(clusters, threshold: float) -> list[tuple[str, str, float]]:
    """Pairs in different clusters whose estimated similarity lies within 0.1 below the
    threshold (candidates from an LSH index tuned for the lower bound, for recall)."""
    import numpy as np
    from datasketch import LeanMinHash, MinHashLSH

    from search.duplicates import SCHEME, SEED as SIGNING_SEED

    low = max(0.05, threshold - 0.1)
    lsh = MinHashLSH(threshold=low, num_perm=clusters.signing.permutations, weights=(0.05, 0.95))
    rows = dict(clusters.rows)
    signatures = clusters.signatures
    lean = {i: LeanMinHash(seed=SIGNING_SEED, hashvalues=signatures[r], scheme=SCHEME)
            for i, r in rows.items()}
    with lsh.insertion_session() as session:
        for article_id, sketch in lean.items():
            session.insert(article_id, sketch, check_duplication=False)
    found = []
    for article_id, sketch in lean.items():
        mine = signatures[rows[article_id]]
        for other in lsh.query(sketch):
            if other <= article_id or clusters.cluster_of(other) == clusters.cluster_of(article_id):
                continue
            share = float(np.count_nonzero(signatures[rows[other]] == mine)) / len(mine)
            if low <= share < threshold:
                found.append((article_id, other, share))
    return sorted(found)


def judge(pairs, texts: dict, sample: int, rng: random.Random) -> dict:
    chosen = rng.sample(pairs, min(sample, len(pairs)))
    ratios = [text_similarity(texts[a]["article"], texts[b]["article"]) for a, b, *_ in chosen]
    if not ratios:
        return {"pairs": 0}
    same = sum(r >= SAME_TEXT for r in ratios)
    verbatim = sum(r >= NEAR_VERBATIM for r in ratios)
    cross = sum(texts[a]["source"] != texts[b]["source"] for a, b, *_ in chosen)
    return {"pairs": len(ratios), "of": len(pairs), "same_text": same,
            "same_text_share": round(same / len(ratios), 3), "near_verbatim": verbatim,
            "median_ratio": round(statistics.median(ratios), 3),
            "lowest_ratio": round(min(ratios), 3), "cross_outlet": cross}


def cluster_figures(clusters, texts: dict, sample: int, seed: int) -> dict:
    members = clusters.members()
    sizes = sorted((len(ids) for ids in members.values()), reverse=True)
    cross = sum(len({texts[i]["source"] for i in ids}) > 1 for ids in members.values())
    rng = random.Random(seed)
    return {
        "threshold": clusters.threshold, **clusters.summary(),
        "largest": sizes[:5], "clusters_across_outlets": cross,
        "clustered_pairs": judge(clustered_pairs(members), texts, sample, rng),
        "just_under": judge(near_misses(clusters, clusters.threshold), texts, sample, rng),
    }


def time_queries(settings, queries: list[dict], warm: list[dict], plain: bool = False) -> dict:
    """p50/p95/mean of the same queries collapsed and not; with ``plain`` (Whoosh) also on
    Whoosh's own search (``fast_search=False``), collapsed with its ``collapse`` facet and
    not. Each query is asked every way in turns (the order rotates), after the warm-up."""
    from search import Engine

    def ask(engine, item, collapse):
        return engine.search(item["q"], source=item.get("source"), date_from=item.get("from"),
                             date_to=item.get("to"), collapse=collapse)

    engines = [Engine(settings)]
    if plain:
        engines.append(Engine(settings.with_changes(fast_search=False)))
    ways = [("collapsed", 0, True), ("every_article", 0, False)]
    if plain:
        ways += [("whoosh_collapse_facet", 1, True), ("whoosh_plain_every_article", 1, False)]
    timings = {name: [] for name, _, _ in ways}
    folding = 0
    try:
        for engine in engines:
            engine.warm()
        for item in warm:
            for _, which, collapse in ways:
                ask(engines[which], item, collapse)
        for number, item in enumerate(queries):
            turn = number % len(ways)
            for name, which, collapse in ways[turn:] + ways[:turn]:
                started = time.perf_counter()
                result = ask(engines[which], item, collapse)
                timings[name].append(time.perf_counter() - started)
                if name == "collapsed" and result.folded:
                    folding += 1
    finally:
        for engine in engines:
            engine.close()
    figures = {"queries": len(queries), "queries_folding_something": folding}
    for name, values in timings.items():
        figures[name] = {f"p{p}_ms": round(percentile(values, p) * 1000, 2) for p in (50, 95)}
        figures[name]["mean_ms"] = round(statistics.fmean(values) * 1000, 2)
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fang", type=Path, default=corpora.DEFAULT_FANG)
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the indexes (default: a temporary one, removed)")
    parser.add_argument("--backend", choices=("whoosh", "xapian"), default="whoosh")
    parser.add_argument("--shards", type=int, default=2, help="Xapian: shards of the cluster")
    parser.add_argument("--thresholds", default="0.5,0.6,0.7,0.8,0.9",
                        help="other thresholds whose clusters are made from the signatures")
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--queries", type=int, default=320)
    parser.add_argument("--skip-builds", action="store_true",
                        help="use the indexes a run with --work left")
    args = parser.parse_args(argv)

    from search import Settings
    from search.duplicates import Clusters

    started_at = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    load = os.getloadavg()
    work = args.work or Path(tempfile.mkdtemp(prefix="newssearch-duplicates-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus"
    if not corpus.exists():
        corpus.mkdir()
        for part in corpora.fang_parts(args.fang):
            shutil.copy2(part, corpus / part.name)
    extra = {"backend": args.backend, "shards": args.shards} if args.backend == "xapian" else {}
    with_clusters = Settings(index_dir=work / "with", **extra)
    without = Settings(index_dir=work / "without", find_duplicates=False, **extra)
    print(f"near-duplicates benchmark, {args.backend}, {started_at}, load {load[0]:.2f}",
          flush=True)

    texts = read_texts(args.fang)
    figures: dict = {"backend": args.backend, "started": started_at,
                     "load_before": [round(x, 2) for x in load]}
    if not args.skip_builds:
        figures["build"] = {"with_clusters": build([corpus], with_clusters, "with clusters"),
                            "without": build([corpus], without, "without clusters")}

    stored = Clusters.load(store_folder(with_clusters), with_clusters)
    figures["clusters"] = [cluster_figures(stored, texts, args.pairs, SEED)]
    for threshold in (float(t) for t in args.thresholds.split(",") if t.strip()):
        if threshold == stored.threshold:
            continue
        other = Clusters.load(store_folder(with_clusters),
                              with_clusters.with_changes(duplicate_threshold=threshold))
        other.update()
        figures["clusters"].append(cluster_figures(other, texts, args.pairs, SEED))
    figures["clusters"].sort(key=lambda row: row["threshold"])

    if not args.skip_builds:
        members = stored.members()
        source = texts[min(members)] if members else next(iter(texts.values()))
        words = source["article"].split()
        copy = dict(source, id="zz-near-copy", article=" ".join(words[:-3] + ["Nachtrag."]))
        figures["incremental"] = {"with_clusters": incremental(corpus, with_clusters, copy,
                                                               "with clusters"),
                                  "without": incremental(corpus, without, copy, "without")}

    queries = bench.make_queries(args.fang, args.queries)
    warm = bench.distinct_from(bench.make_queries(args.fang, args.queries,
                                                  seed=bench.QUERY_SEED + 1), queries)[:100]
    figures["queries"] = time_queries(with_clusters, queries, warm,
                                      plain=args.backend == "whoosh")
    figures["load_after"] = [round(x, 2) for x in os.getloadavg()]

    print()
    print("threshold  clusters  articles  largest        across  clustered pairs: same text"
          " (>=0.5) / near-verbatim (>=0.8) / median     just under: same text / median")
    for row in figures["clusters"]:
        pairs, under = row["clustered_pairs"], row["just_under"]
        print(f"{row['threshold']:>9.2f}  {row['clusters']:>8}  {row['articles']:>8}  "
              f"{str(row['largest'][:3]):<13}  {row['clusters_across_outlets']:>6}  "
              f"{pairs.get('same_text', 0):>3}/{pairs.get('pairs', 0)} / "
              f"{pairs.get('near_verbatim', 0):>3}/{pairs.get('pairs', 0)} / "
              f"{pairs.get('median_ratio', '-')}"
              f"     {under.get('same_text', 0)}/{under.get('pairs', 0)} of {under.get('of', 0)}"
              f" / {under.get('median_ratio', '-')}")
    if "build" in figures:
        build_with, build_without = figures["build"]["with_clusters"], figures["build"]["without"]
        print(f"build: {build_with['seconds']} s with clusters, {build_without['seconds']} s "
              f"without ({build_with['seconds'] / build_without['seconds']:.2f}x)")
        inc = figures["incremental"]
        print(f"incremental, one article: added {inc['with_clusters']['add_seconds']} s / "
              f"{inc['without']['add_seconds']} s, removed "
              f"{inc['with_clusters']['remove_seconds']} s / {inc['without']['remove_seconds']} s"
              f" (with / without clusters)")
    q = figures["queries"]
    print(f"queries ({q['queries']}, {q['queries_folding_something']} fold something): "
          f"collapsed p50 {q['collapsed']['p50_ms']} ms p95 {q['collapsed']['p95_ms']} ms; "
          f"every article p50 {q['every_article']['p50_ms']} ms p95 "
          f"{q['every_article']['p95_ms']} ms")
    if "whoosh_collapse_facet" in q:
        print(f"Whoosh's own search (fast_search=False): collapse facet p50 "
              f"{q['whoosh_collapse_facet']['p50_ms']} ms p95 "
              f"{q['whoosh_collapse_facet']['p95_ms']} ms; every article p50 "
              f"{q['whoosh_plain_every_article']['p50_ms']} ms p95 "
              f"{q['whoosh_plain_every_article']['p95_ms']} ms")
    print(json.dumps(figures, ensure_ascii=False))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
