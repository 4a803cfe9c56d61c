"""Fit the weights of the re-ranking features on the development sets.

For every query of the development sets (XQuAD-de and the three known-item
sets of ``eval_known_items.py``, the same data and cached indexes as
``eval_compare.py``), the first ``--depth`` hits in BM25F order (re-ranking
off) are read with their stored fields, and the features of
``search/ranking/features.py`` computed for each. The weights are those of
a pairwise logistic regression: for every query whose relevant article is
among those hits, each pair (relevant, other) should order by

    log(score_relevant / score_other) + w · (features_relevant − features_other) > 0

(the BM25F score keeps weight 1, as in ``search/ranking/rerank.py``), each
set weighing the same, with a small L2 penalty. The script prints MRR@10
and success@1 of every set for the plain order, the weights in force and
the fitted ones, and with ``--write`` stores the fitted weights in
``search/ranking/weights.json`` (the defaults of the settings).

    python benchmarks/fit_ranking.py --cache ~/.cache/newssearch-eval [--depth 30] [--write]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from search import Engine, Settings  # noqa: E402
from search.analysis import has_stemmer, query_terms  # noqa: E402
from search.query import parse, words_of  # noqa: E402
from search.ranking.features import NAMES, QueryWords, features  # noqa: E402
from search.ranking.rerank import WEIGHTS_FILE, shipped_weights  # noqa: E402

from eval_compare import CORPORA, data_for, ensure_index  # noqa: E402

SETS = ("xquad", "exact", "inflected", "umlaut")


def collect(set_name: str, args) -> list[dict]:
    """Per query: the BM25F scores, the features of the first hits and which is relevant."""
    corpus_name, paths, queries, qrels, _ = data_for(set_name, args)
    folder = ensure_index("ours", corpus_name, paths, args.cache)
    rows = []
    with Engine(Settings(index_dir=folder, rerank_depth=0)) as engine:
        langs = [lang for lang in engine.stats()["languages"] if has_stemmer(lang)] or ["de"]
        stored: dict[str, dict] = {}
        for query in queries:
            result = engine.search(query.text, per_page=args.depth, suggest=False)
            tree = parse(query.text)
            texts = [w.text for w in words_of(tree) if query_terms(w.text, langs)] if tree else []
            words = QueryWords(texts)
            relevant = {d for d, grade in qrels.get(query.id, {}).items() if grade > 0}
            found = []
            for hit in result.hits:
                article = stored.get(hit["id"])
                if article is None:
                    article = stored[hit["id"]] = engine.article(hit["id"])
                found.append((hit["score"] or 0.0, features(article, words), hit["id"] in relevant))
            rows.append({"qid": query.id, "hits": found, "judged": len(relevant)})
    return rows


def ranks(rows, weights) -> list[int | None]:
    """The rank (1-based) of the first relevant hit of each query under ``weights``."""
    found = []
    for row in rows:
        scored = []
        for position, (score, feats, relevant) in enumerate(row["hits"]):
            value = math.log(max(score, 1e-12)) + sum(w * x for w, x in zip(weights, feats))
            scored.append((-value, position, relevant))
        scored.sort()
        found.append(next((i + 1 for i, (_, _, rel) in enumerate(scored) if rel), None))
    return found


def figures(rows, weights) -> tuple[float, float]:
    found = ranks(rows, weights)
    mrr = sum(1.0 / r for r in found if r and r <= 10) / len(found)
    at1 = sum(1 for r in found if r == 1) / len(found)
    return mrr, at1


def pairs(rows) -> tuple[np.ndarray, np.ndarray]:
    """``(score differences, feature differences)`` of every (relevant, other) pair."""
    base, diffs = [], []
    for row in rows:
        hits = row["hits"]
        good = [h for h in hits if h[2]]
        if not good:
            continue
        for score, feats, _ in good:
            for other_score, other_feats, relevant in hits:
                if relevant:
                    continue
                base.append(math.log(max(score, 1e-12)) - math.log(max(other_score, 1e-12)))
                diffs.append(np.subtract(feats, other_feats))
    if not base:
        return np.zeros(0), np.zeros((0, len(NAMES)))
    return np.array(base), np.array(diffs)


def fit(by_set: dict, l2: float, steps: int = 3000) -> np.ndarray:
    """Newton steps on the mean (over sets) pairwise logistic loss plus ``l2 |w|²``."""
    data = [(b, d, 1.0 / max(1, len(b))) for b, d in (pairs(rows) for rows in by_set.values())
            if len(b)]
    w = np.zeros(len(NAMES))
    for _ in range(steps):
        gradient = 2 * l2 * w
        hessian = 2 * l2 * np.eye(len(w))
        for base, diffs, share in data:
            margin = np.clip(base + diffs @ w, -50, 50)
            p = 1.0 / (1.0 + np.exp(margin))  # derivative of log(1 + exp(-m))
            gradient -= share * diffs.T @ p
            hessian += share * (diffs * (p * (1 - p))[:, None]).T @ diffs
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return w


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--xquad", type=Path, default=CORPORA / "xquad-de-retrieval")
    parser.add_argument("--fang", type=Path, default=CORPORA / "fang-covid-real")
    parser.add_argument("--known-count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--depth", type=int, default=30)
    parser.add_argument("--l2", type=float, default=0.001)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--write", action="store_true", help="Store the fitted weights.")
    args = parser.parse_args(argv)
    by_set = {}
    for set_name in [s for s in args.sets.split(",") if s]:
        saved = args.cache / f"features-{set_name}-{args.depth}.json"
        if saved.exists():
            by_set[set_name] = json.loads(saved.read_text())
            continue
        started = time.perf_counter()
        by_set[set_name] = collect(set_name, args)
        saved.write_text(json.dumps(by_set[set_name]))
        print(f"{set_name}: features of {len(by_set[set_name])} queries in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    current = shipped_weights()
    fitted = fit(by_set, args.l2)
    variants = {"bm25f only": [0.0] * len(NAMES),
                "weights in force": [current[n] for n in NAMES],
                "fitted": fitted.tolist()}
    print("weights: " + ", ".join(f"{n}" for n in NAMES))
    for label, weights in variants.items():
        cells = []
        for set_name, rows in by_set.items():
            mrr, at1 = figures(rows, weights)
            cells.append(f"{set_name} MRR@10 {mrr:.3f} s@1 {at1:.3f}")
        print(f"{label:17} [{', '.join(f'{w:.3f}' for w in weights)}]  " + " | ".join(cells))
    if args.write:
        WEIGHTS_FILE.write_text(json.dumps({
            "about": "Weights of the re-ranking features (search/ranking/rerank.py), fitted by "
                     "benchmarks/fit_ranking.py on the development sets "
                     f"({', '.join(by_set)}; first {args.depth} hits, l2 {args.l2}).",
            "weights": {n: round(float(w), 4) for n, w in zip(NAMES, fitted)}}, indent=1) + "\n",
            encoding="utf-8")
        print(f"written to {WEIGHTS_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
