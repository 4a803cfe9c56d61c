"""Relevance evaluation: queries and judgments in, ranking figures out.

Queries are JSON Lines (``query_id``, ``qid`` or ``id``; ``text`` or
``query``), judgments are TREC qrels (``qid 0 docid rel``, rel > 0 is
relevant). :func:`evaluate` runs every query through :meth:`Engine.search`,
exactly as the web page does, and reports MRR@k, Recall@1/k/100, nDCG@k, the
queries without any hit and the mean latency. :func:`write_run` writes the
ranking as a TREC run file (``qid Q0 docid rank score tag``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

QUERY_ID_KEYS = ("query_id", "qid", "id")
QUERY_TEXT_KEYS = ("text", "query")


class EvaluationInputError(ValueError):
    """A queries or qrels file that cannot be read; says which file and line."""


@dataclass(frozen=True)
class Query:
    id: str
    text: str


@dataclass
class Ranking:
    """What the engine returned for one query."""

    query: Query
    doc_ids: list[str]
    scores: list[float]
    total: int
    mode: str
    took_ms: float


@dataclass
class Report:
    """The figures of one evaluation run."""

    queries: int
    judged: int
    k: int
    depth: int
    mrr: float
    recall: dict[int, float]
    ndcg: float
    zero_hits: int
    any_mode: int
    mean_latency_ms: float
    per_query: dict[str, dict] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        k = self.k
        data = {
            "queries": self.queries,
            "judged": self.judged,
            f"mrr@{k}": round(self.mrr, 4),
        }
        for cutoff, value in sorted(self.recall.items()):
            data[f"recall@{cutoff}"] = round(value, 4)
        data[f"ndcg@{k}"] = round(self.ndcg, 4)
        data["zero_hits"] = self.zero_hits
        data["any_mode"] = self.any_mode
        data["mean_latency_ms"] = round(self.mean_latency_ms, 2)
        data["depth"] = self.depth
        return data


def _open_lines(path: Path):
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise EvaluationInputError(f"{path}: cannot read: {error}") from error


def read_queries(path) -> list[Query]:
    """The queries of a JSONL file, in file order."""
    queries = []
    seen = set()
    for number, line in enumerate(_open_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise EvaluationInputError(f"{path}:{number}: invalid JSON: {error.msg}") from error
        if not isinstance(record, dict):
            raise EvaluationInputError(f"{path}:{number}: expected a JSON object")
        qid = next((record[k] for k in QUERY_ID_KEYS if record.get(k) not in (None, "")), None)
        text = next((record[k] for k in QUERY_TEXT_KEYS if isinstance(record.get(k), str)), None)
        if qid is None or text is None:
            raise EvaluationInputError(
                f"{path}:{number}: a query needs an id (query_id, qid or id) and a text (text or query)")
        qid = str(qid)
        if qid in seen:
            raise EvaluationInputError(f"{path}:{number}: query id {qid!r} appears twice")
        seen.add(qid)
        queries.append(Query(qid, text))
    return queries


def read_qrels(path) -> dict[str, dict[str, int]]:
    """``{qid: {docid: relevance}}`` from a TREC qrels file (relevance 0 kept, not relevant)."""
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(_open_lines(path), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise EvaluationInputError(f"{path}:{number}: expected 'qid 0 docid relevance'")
        qid, _, docid, rel = parts
        try:
            relevance = int(rel)
        except ValueError as error:
            raise EvaluationInputError(f"{path}:{number}: relevance must be a whole number") from error
        qrels.setdefault(qid, {})[docid] = relevance
    return qrels


# -- metrics -----------------------------------------------------------------


def reciprocal_rank(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    for rank, doc_id in enumerate(ranked[:k], start=1):
        if relevant.get(doc_id, 0) > 0:
            return 1.0 / rank
    return 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    wanted = {d for d, r in relevant.items() if r > 0}
    if not wanted:
        return 0.0
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    """nDCG with gains ``2^rel - 1`` and a ``log2(rank + 1)`` discount."""
    def gain(rel: int) -> float:
        return (2 ** rel - 1) if rel > 0 else 0.0
    dcg = sum(gain(relevant.get(d, 0)) / math.log2(rank + 1)
              for rank, d in enumerate(ranked[:k], start=1))
    ideal = sorted((r for r in relevant.values() if r > 0), reverse=True)[:k]
    idcg = sum(gain(r) / math.log2(rank + 1) for rank, r in enumerate(ideal, start=1))
    return dcg / idcg if idcg else 0.0


# -- running -----------------------------------------------------------------


def run_queries(engine, queries, *, depth: int = 100, progress=None,
                collapse: bool = False) -> list[Ranking]:
    """Every query through ``engine.search`` (page 1, ``depth`` hits), timed by the engine.

    Near-duplicates are not folded unless ``collapse``: every article is ranked, so the
    figures compare with runs of other tools and with judgments of single articles."""
    per_page = min(depth, engine.settings.max_per_page)
    rankings = []
    for number, query in enumerate(queries, start=1):
        result = engine.search(query.text, page=1, per_page=per_page, collapse=collapse)
        rankings.append(Ranking(
            query=query,
            doc_ids=[hit["id"] for hit in result.hits],
            scores=[hit["score"] if hit["score"] is not None else 0.0 for hit in result.hits],
            total=result.total,
            mode=result.mode,
            took_ms=result.took_ms,
        ))
        if progress:
            progress(number, len(queries))
    return rankings


def score(rankings: list[Ranking], qrels: dict[str, dict[str, int]], *, k: int = 10,
          depth: int = 100) -> Report:
    """The figures for ``rankings``; queries without judgments count for latency only."""
    judged = [r for r in rankings if any(v > 0 for v in qrels.get(r.query.id, {}).values())]
    cutoffs = sorted({1, k, depth})
    mrr = ndcg = 0.0
    recall = {c: 0.0 for c in cutoffs}
    per_query = {}
    for ranking in judged:
        relevant = qrels[ranking.query.id]
        rr = reciprocal_rank(ranking.doc_ids, relevant, k)
        nd = ndcg_at(ranking.doc_ids, relevant, k)
        mrr += rr
        ndcg += nd
        row = {"rr": rr, "ndcg": nd, "total": ranking.total, "mode": ranking.mode}
        for c in cutoffs:
            value = recall_at(ranking.doc_ids, relevant, c)
            recall[c] += value
            row[f"recall@{c}"] = value
        per_query[ranking.query.id] = row
    n = len(judged) or 1
    return Report(
        queries=len(rankings),
        judged=len(judged),
        k=k,
        depth=depth,
        mrr=mrr / n,
        recall={c: v / n for c, v in recall.items()},
        ndcg=ndcg / n,
        zero_hits=sum(1 for r in rankings if r.total == 0),
        any_mode=sum(1 for r in rankings if r.mode == "any"),
        mean_latency_ms=(sum(r.took_ms for r in rankings) / len(rankings)) if rankings else 0.0,
        per_query=per_query,
    )


def evaluate(engine, queries, qrels, *, k: int = 10, depth: int = 100, progress=None,
             collapse: bool = False) -> tuple[Report, list[Ranking]]:
    rankings = run_queries(engine, queries, depth=max(k, depth), progress=progress,
                           collapse=collapse)
    return score(rankings, qrels, k=k, depth=max(k, min(depth, engine.settings.max_per_page))), rankings


def write_run(rankings: list[Ranking], path, tag: str = "newssearch") -> None:
    """A TREC run file: ``qid Q0 docid rank score tag``, one line per hit."""
    tag = tag.replace(" ", "_") or "newssearch"
    with open(path, "w", encoding="utf-8") as handle:
        for ranking in rankings:
            for rank, (doc_id, value) in enumerate(zip(ranking.doc_ids, ranking.scores), start=1):
                handle.write(f"{ranking.query.id} Q0 {doc_id.replace(' ', '_')} {rank} {value:.4f} {tag}\n")


def format_report(report: Report, label: str | None = None) -> str:
    k = report.k
    recalls = "  ".join(f"R@{c} {v:.3f}" for c, v in sorted(report.recall.items()))
    head = f"{label}: " if label else ""
    return (f"{head}{report.judged} judged queries of {report.queries}  "
            f"MRR@{k} {report.mrr:.3f}  {recalls}  nDCG@{k} {report.ndcg:.3f}  "
            f"zero hits {report.zero_hits}  any-mode {report.any_mode}  "
            f"latency {report.mean_latency_ms:.1f} ms")
