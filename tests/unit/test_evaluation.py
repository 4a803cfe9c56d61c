"""Evaluation (search/evaluation.py): reading queries and qrels, the metrics, run files.

The command on a real index is tested in tests/integration/test_eval_command.py."""

from __future__ import annotations

import json
import math

import pytest

from search.evaluation import (EvaluationInputError, Query, Ranking, ndcg_at, read_qrels,
                               read_queries, recall_at, reciprocal_rank, score, write_run)


# -- readers -----------------------------------------------------------------


def test_queries_accept_every_id_and_text_key(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join([
        json.dumps({"query_id": "a", "text": "Wahl in Bayern"}),
        json.dumps({"qid": 7, "query": "Impfstoff"}),
        "",
        json.dumps({"id": "c", "text": "Flüchtlingspolitik", "answers": ["x"]}),
    ]), encoding="utf-8")
    assert read_queries(path) == [Query("a", "Wahl in Bayern"), Query("7", "Impfstoff"),
                                  Query("c", "Flüchtlingspolitik")]


@pytest.mark.parametrize("line, message", [
    ("{not json", "invalid JSON"),
    ('{"text": "no id"}', "needs an id"),
    ('{"qid": "x"}', "needs an id"),
    ('["a"]', "JSON object"),
])
def test_bad_query_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "q.jsonl"
    path.write_text('{"qid": "ok", "text": "x"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(EvaluationInputError, match=message) as error:
        read_queries(path)
    assert ":2:" in str(error.value)


def test_duplicate_query_ids_are_refused(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"qid": "a", "text": "x"}\n{"qid": "a", "text": "y"}\n', encoding="utf-8")
    with pytest.raises(EvaluationInputError, match="twice"):
        read_queries(path)


def test_qrels(tmp_path):
    path = tmp_path / "qrels"
    path.write_text("q1 0 d1 1\nq1 0 d2 0\nq2 0 d9 2\n\n", encoding="utf-8")
    assert read_qrels(path) == {"q1": {"d1": 1, "d2": 0}, "q2": {"d9": 2}}
    path.write_text("q1 0 d1\n", encoding="utf-8")
    with pytest.raises(EvaluationInputError, match="qid 0 docid"):
        read_qrels(path)


# -- metrics -----------------------------------------------------------------


def test_metrics_by_hand():
    relevant = {"d3": 1, "d7": 1, "d0": 0}
    ranked = ["d1", "d0", "d3", "d4"]
    assert reciprocal_rank(ranked, relevant, 10) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, relevant, 2) == 0.0
    assert recall_at(ranked, relevant, 3) == 0.5
    assert recall_at(ranked, relevant, 1) == 0.0
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at(ranked, relevant, 10) == pytest.approx((1 / math.log2(4)) / ideal)
    assert ndcg_at(["d3", "d7"], relevant, 10) == pytest.approx(1.0)
    assert ndcg_at(["d2"], {"d1": 2}, 10) == 0.0


def test_score_counts_zero_hits_and_unjudged_queries():
    def ranking(qid, docs, total=None, mode="all"):
        return Ranking(Query(qid, qid), docs, [1.0] * len(docs),
                       len(docs) if total is None else total, mode, 10.0)
    rankings = [ranking("q1", ["a", "b"]), ranking("q2", [], mode="any"), ranking("q3", ["z"])]
    qrels = {"q1": {"b": 1}, "q2": {"c": 1}}
    report = score(rankings, qrels, k=10, depth=100)
    assert report.judged == 2 and report.queries == 3
    assert report.mrr == pytest.approx((0.5 + 0) / 2)
    assert report.recall[1] == 0.0 and report.recall[10] == pytest.approx(0.5)
    assert report.zero_hits == 1 and report.any_mode == 1
    assert report.mean_latency_ms == pytest.approx(10.0)
    data = report.to_dict()
    assert set(data) >= {"mrr@10", "recall@1", "recall@10", "recall@100", "ndcg@10",
                         "zero_hits", "mean_latency_ms"}


def test_run_file_format(tmp_path):
    rankings = [Ranking(Query("q1", "x"), ["d1", "d 2"], [3.5, 1.25], 2, "all", 1.0)]
    path = tmp_path / "run.txt"
    write_run(rankings, path, tag="my run")
    assert path.read_text().splitlines() == ["q1 Q0 d1 1 3.5000 my_run", "q1 Q0 d_2 2 1.2500 my_run"]
