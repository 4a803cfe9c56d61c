"""Our ranking beside two baselines, on the same data, in one run.

Engines:

- ``ours``: :class:`search.Engine` exactly as the web page uses it (German
  chain, compound parts, AND with the ranked-OR "any" mode);
- ``ours-no-parts``: the same index searched without the compound parts;
- ``ours-and``: the same, strict AND only (no any mode);
- ``ours-stems``: the same without re-ranking the first hits (BM25F alone,
  ``rerank_depth=0``, see ``search/ranking/rerank.py``);
- ``ours-typed``: the re-ranking by words as typed alone (the other feature
  weights 0);
- ``ours-xapian``: our engine on the Xapian backend (a one-shard cluster of the
  same articles, built into the cache);
- ``plain``: BM25 without stemming (Whoosh, lowercase words, German stopwords);
- ``stock``: stock Whoosh ``LanguageAnalyzer("de")`` (classic Snowball German);
- ``fts5-and``: SQLite FTS5 (the ``unicode61`` tokenizer: lowercase, diacritics
  removed, no stemming, no stopwords), every word required, ranked by its
  ``bm25()`` with the title weighted 2.5 — the anchor to beat on words as typed.

The baselines search title (boost 2.5, as ours) and text with Whoosh's
query parser in OR mode (their best on XQuAD: in AND mode most long questions
find nothing) and BM25F with the same parameters as ours; ``plain-and`` and
``stock-and`` are the same in AND mode (their best on the three-word known
items, where in OR mode a title holding one of the words outweighs a text
holding all three: Whoosh scores title and text as separate BM25 sums).

Data: XQuAD-de (240 passages, its 632 judged German questions) and the
known-item sets of ``eval_known_items.py`` over all FANG-COVID articles
(generated into the cache folder when missing). Indexes are built once into
``--cache`` and reused (remove `ours-*` after a change to the analysis or
the index format: queries alone never need a new index).

    python benchmarks/eval_compare.py --cache /work/cache/eval [--sets xquad,exact,inflected,umlaut]
        [--engines ours,ours-no-parts,ours-and,ours-stems,ours-typed,ours-xapian,plain,stock,
                   plain-and,stock-and,fts5-and]
        [--known-count 1000] [--limit N] [--json OUT]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whoosh import fields, index as whoosh_index, scoring  # noqa: E402
from whoosh.analysis import LanguageAnalyzer, LowercaseFilter, RegexTokenizer, StopFilter  # noqa: E402
from whoosh.lang.stopwords import stoplists  # noqa: E402
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup  # noqa: E402

from search import Engine, Settings, index_paths  # noqa: E402
from search.ingest.corpus import find_files, read_file  # noqa: E402
from search.evaluation import Query, Ranking, read_qrels, read_queries, score  # noqa: E402

HERE = Path(__file__).resolve().parent
CORPORA = HERE.parents[1] / "shared" / "corpora"
ENGINES = ("ours", "ours-no-parts", "ours-and", "ours-stems", "ours-typed", "ours-xapian", "plain",
           "stock", "plain-and", "stock-and", "fts5-and")
SETS = ("xquad", "exact", "inflected", "umlaut")
TITLE_BOOST = 2.5
FTS_WORD = re.compile(r"[^\W_]+")


# -- baselines -----------------------------------------------------------------


def baseline_analyzer(name: str):
    if name == "stock":
        return LanguageAnalyzer("de")
    return RegexTokenizer() | LowercaseFilter() | StopFilter(stoplist=stoplists["de"])


def build_baseline(name: str, paths, folder: Path) -> None:
    analyzer = baseline_analyzer(name)
    schema = fields.Schema(id=fields.ID(stored=True, unique=True),
                           title=fields.TEXT(analyzer=analyzer), text=fields.TEXT(analyzer=analyzer))
    folder.mkdir(parents=True, exist_ok=True)
    index = whoosh_index.create_in(str(folder), schema)
    writer = index.writer(limitmb=512)
    settings = Settings()
    count = 0
    for path in find_files(paths):
        if not isinstance(path, Path):
            continue
        for article in read_file(path, settings):
            if hasattr(article, "text"):
                writer.add_document(id=article.id, title=article.title, text=article.text)
                count += 1
    writer.commit()
    (folder / "DONE").write_text(str(count))


class Baseline:
    def __init__(self, name: str, folder: Path, group=OrGroup):
        self.index = whoosh_index.open_dir(str(folder))
        self.searcher = self.index.searcher(weighting=scoring.BM25F(B=0.75, K1=1.2))
        self.parser = MultifieldParser(["title", "text"], self.index.schema,
                                       fieldboosts={"title": TITLE_BOOST}, group=group)
        self.mode = "all" if group is AndGroup else "any"

    def rank(self, query: Query, depth: int) -> Ranking:
        started = time.perf_counter()
        parsed = self.parser.parse(query.text)
        results = self.searcher.search(parsed, limit=depth)
        ids = [hit["id"] for hit in results]
        scores = [hit.score for hit in results]
        took = (time.perf_counter() - started) * 1000
        return Ranking(query, ids, scores, len(results), self.mode, took)

    def close(self):
        self.searcher.close()
        self.index.close()


def build_fts5(paths, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    db = sqlite3.connect(partial)
    db.execute("CREATE VIRTUAL TABLE articles USING fts5(id UNINDEXED, title, text)")
    settings = Settings()
    rows = ((article.id, article.title, article.text)
            for path in find_files(paths) if isinstance(path, Path)
            for article in read_file(path, settings) if hasattr(article, "text"))
    db.executemany("INSERT INTO articles VALUES (?, ?, ?)", rows)
    db.commit()
    db.close()
    partial.replace(target)


class Fts5:
    """SQLite FTS5 with every word of the query required (each word a quoted string)."""

    mode = "all"

    def __init__(self, target: Path):
        self.db = sqlite3.connect(target)

    def rank(self, query: Query, depth: int) -> Ranking:
        started = time.perf_counter()
        words = FTS_WORD.findall(query.text)
        ids, scores, total = [], [], 0
        if words:
            match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
            found = self.db.execute(
                f"SELECT id, bm25(articles, 0.0, {TITLE_BOOST}, 1.0) AS s FROM articles "
                "WHERE articles MATCH ? ORDER BY s LIMIT ?", (match, depth)).fetchall()
            ids = [row[0] for row in found]
            scores = [-row[1] for row in found]
            total = self.db.execute("SELECT count(*) FROM articles WHERE articles MATCH ?",
                                    (match,)).fetchone()[0]
        took = (time.perf_counter() - started) * 1000
        return Ranking(query, ids, scores, total, self.mode, took)

    def close(self):
        self.db.close()


class Ours:
    """Our engine without a time budget: the figures are the ranking's, not the
    machine's (under load the first query of a cold engine took 5 s and, cut at the
    default 1 s, answered without its any mode: one query of 500 without hits)."""

    def __init__(self, folder: Path, **changes):
        self.engine = Engine(Settings(index_dir=folder, search_time_budget_seconds=0,
                                      **changes))

    def rank(self, query: Query, depth: int) -> Ranking:
        # Near-duplicates folded as on the page (the default): a copy of another hit is
        # listed under it, not ranked again. The known items' targets have no
        # near-identical copy (eval_known_items.py), so folding never hides one.
        result = self.engine.search(query.text, page=1, per_page=depth)
        return Ranking(query, [h["id"] for h in result.hits],
                       [h["score"] or 0.0 for h in result.hits], result.total, result.mode,
                       result.took_ms)

    def close(self):
        self.engine.close()


# -- the run -----------------------------------------------------------------------


def ensure_index(engine: str, corpus_name: str, paths, cache: Path) -> Path:
    if engine == "ours-xapian":
        folder = cache / f"ours-xapian-{corpus_name}"
        if not (folder / "DONE").exists():
            print(f"building our Xapian cluster of {corpus_name} in {folder} …", flush=True)
            index_paths(paths, Settings(index_dir=folder, shards=1), rebuild=True)
            (folder / "DONE").write_text("built")
        return folder
    kind = "ours" if engine.startswith("ours") else engine.removesuffix("-and")
    folder = cache / f"{kind}-{corpus_name}"
    if kind == "fts5":
        target = cache / f"fts5-{corpus_name}.sqlite"
        if not target.exists():
            print(f"building the SQLite FTS5 index of {corpus_name} in {target} …", flush=True)
            build_fts5(paths, target)
        return target
    if kind == "ours":
        if not (folder / "CURRENT").exists():
            print(f"building our index of {corpus_name} in {folder} …", flush=True)
            index_paths(paths, Settings(index_dir=folder), rebuild=True)
    elif not (folder / "DONE").exists():
        print(f"building the {kind} baseline index of {corpus_name} in {folder} …", flush=True)
        build_baseline(kind, paths, folder)
    return folder


def open_engine(engine: str, folder: Path):
    if engine == "ours":
        return Ours(folder)
    if engine == "ours-no-parts":
        return Ours(folder, parts_boost=0.0)
    if engine == "ours-and":
        return Ours(folder, any_mode_min_terms=10_000)
    if engine == "ours-stems":  # BM25F alone: no re-ranking of the first hits
        return Ours(folder, rerank_depth=0)
    if engine == "ours-typed":  # the re-ranking by words as typed alone
        return Ours(folder, rank_window_weight=0.0, rank_pairs_weight=0.0, rank_title_weight=0.0,
                    rank_written_weight=0.0)
    if engine == "ours-xapian":
        return Ours(folder)
    if engine == "fts5-and":
        return Fts5(folder)
    if engine.endswith("-and"):
        return Baseline(engine.removesuffix("-and"), folder, group=AndGroup)
    return Baseline(engine, folder)


def data_for(set_name: str, args):
    if set_name == "xquad":
        return ("xquad", [args.xquad / "docs.de.jsonl"], read_queries(args.xquad / "queries.de.jsonl"),
                read_qrels(args.xquad / "qrels.de.trec"), 100)
    # One folder per version of the generator, count and seed: a changed generator never
    # reuses the items of an older one.
    generator = hashlib.sha256((HERE / "eval_known_items.py").read_bytes()).hexdigest()[:10]
    known = args.cache / f"known-items-{args.known_count}-{args.seed}-{generator}"
    if not (known / "qrels.trec").exists():
        from eval_known_items import generate, write  # noqa: E402
        print(f"generating {args.known_count} known items in {known} …", flush=True)
        stats: dict = {}
        items, _ = generate(args.fang, args.known_count, args.seed, stats)
        write(items, known)
        (known / "generation.json").write_text(json.dumps({"items": len(items), **stats}))
    info = known / "generation.json"
    if info.exists():
        print(f"{set_name}: known items of {known.name}: {info.read_text()}", flush=True)
    return ("fang", [args.fang], read_queries(known / f"queries.{set_name}.jsonl"),
            read_qrels(known / "qrels.trec"), 10)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True, help="Folder for indexes and query sets.")
    parser.add_argument("--xquad", type=Path, default=CORPORA / "xquad-de-retrieval")
    parser.add_argument("--fang", type=Path, default=CORPORA / "fang-covid-real")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--known-count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--limit", type=int, default=0,
                        help="Only the first N known items of each form (a random sample: the "
                             "generator draws articles in a random order); XQuAD's 632 "
                             "questions are always all asked.")
    parser.add_argument("--json", type=Path, default=None, help="Also write all figures as JSON here.")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    for required in (args.xquad, args.fang):
        if not required.exists():
            print(f"corpus not found: {required}", file=sys.stderr)
            return 1
    args.cache.mkdir(parents=True, exist_ok=True)
    engines = [e for e in args.engines.split(",") if e]
    rows = []
    for set_name in [s for s in args.sets.split(",") if s]:
        corpus_name, paths, queries, qrels, depth = data_for(set_name, args)
        if args.limit and set_name != "xquad":
            queries = queries[: args.limit]
        for engine in engines:
            folder = ensure_index(engine, corpus_name, paths, args.cache)
            searcher = open_engine(engine, folder)
            try:
                rankings = [searcher.rank(query, depth) for query in queries]
            finally:
                searcher.close()
            report = score(rankings, qrels, k=10, depth=depth)
            row = {"set": set_name, "engine": engine, **report.to_dict()}
            rows.append(row)
            print(_line(row), flush=True)
    print()
    print(_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


def _line(row) -> str:
    return (f"{row['set']:10} {row['engine']:14} MRR@10 {row['mrr@10']:.3f}  R@1 {row['recall@1']:.3f}  "
            f"R@10 {row['recall@10']:.3f}  R@{row['depth']} {row.get('recall@' + str(row['depth']), 0):.3f}  "
            f"nDCG@10 {row['ndcg@10']:.3f}  zero {row['zero_hits']}  any {row['any_mode']}  "
            f"{row['mean_latency_ms']:.1f} ms")


def _table(rows) -> str:
    lines = ["| set | engine | MRR@10 | R@1 (success@1) | R@10 (success@10) | R@100 | nDCG@10 | zero hits | latency ms |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        r100 = f"{r['recall@100']:.3f}" if "recall@100" in r else "–"
        lines.append(f"| {r['set']} | {r['engine']} | {r['mrr@10']:.3f} | {r['recall@1']:.3f} | "
                     f"{r['recall@10']:.3f} | {r100} | {r['ndcg@10']:.3f} | {r['zero_hits']} | "
                     f"{r['mean_latency_ms']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
