"""The evaluation command: reading queries and qrels, the metrics, run files, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from web.cli import main
from search import Settings, index_paths
from search.evaluation import (EvaluationInputError, Query, Ranking, ndcg_at, read_qrels,
                               read_queries, recall_at, reciprocal_rank, score, write_run)

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
XQUAD = CORPORA / "xquad-de-retrieval"


def require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"shared corpus missing: {path} (the evaluation tests need ../shared/corpora)")
    return path


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


# -- the command on XQuAD-de ---------------------------------------------------


@pytest.fixture(scope="module")
def xquad_index(tmp_path_factory):
    docs = require(XQUAD / "docs.de.jsonl")
    folder = tmp_path_factory.mktemp("xquad") / "index"
    report = index_paths([docs], Settings(index_dir=folder), rebuild=True)
    assert report.documents == 240
    return folder


def test_eval_command_on_xquad(xquad_index, tmp_path):
    run = tmp_path / "run.trec"
    result = CliRunner().invoke(main, [
        "eval", "--index", str(xquad_index), "--queries", str(XQUAD / "queries.de.jsonl"),
        "--qrels", str(XQUAD / "qrels.de.trec"), "--run-out", str(run), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["queries"] == 632 and figures["judged"] == 632
    assert figures["mrr@10"] >= 0.93
    assert figures["zero_hits"] == 0
    lines = run.read_text().splitlines()
    first = lines[0].split()
    assert len(first) == 6 and first[1] == "Q0" and first[3] == "1" and first[5] == "newssearch"
    assert len({line.split()[0] for line in lines}) == 632


def test_eval_command_text_output_and_errors(xquad_index, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"qid": "q1", "text": "Wie viele Punkte gab die Verteidigung der Panthers ab?"}\n',
                       encoding="utf-8")
    qrels = tmp_path / "qrels"
    qrels.write_text("q1 0 a00p00 1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", "--index", str(xquad_index), "--queries", str(queries),
                                       "--qrels", str(qrels), "--k", "5"])
    assert result.exit_code == 0, result.output
    assert "MRR@5 1.000" in result.output and "zero hits 0" in result.output
    queries.write_text("{broken\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", "--index", str(xquad_index), "--queries", str(queries),
                                       "--qrels", str(qrels)])
    assert result.exit_code == 2 and "invalid JSON" in result.output
    result = CliRunner().invoke(main, ["eval", "--index", str(tmp_path / "none"), "--queries",
                                       str(XQUAD / "queries.de.jsonl"), "--qrels", str(qrels)])
    assert result.exit_code == 1


# -- the known-item generator --------------------------------------------------


def _known_items():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import eval_known_items

    return eval_known_items


def test_known_item_inflections_keep_a_word_a_form_of_itself():
    from collections import Counter

    known = _known_items()
    corpus = Counter({"wirtschaftspolitikern": 5, "wirtschaftspolitiker": 5, "schnell": 9,
                      "schnellten": 3, "politikern": 4, "politik": 9, "seit": 50, "treffen": 7,
                      "regierungen": 6, "neue": 8, "neuer": 3})
    assert known.inflections("wirtschaftspolitik", corpus) == []
    assert known.inflections("schnellte", corpus) == ["schnellten"]
    assert known.inflections("politiker", corpus) == ["politikern"]
    assert known.inflections("seitens", corpus) == []
    assert known.inflections("treffens", corpus) == ["treffen"]
    assert known.inflections("regierung", corpus) == ["regierungen"]
    assert known.inflections("neuen", corpus) == ["neue"]


def test_known_items_are_distinctive_and_skip_duplicates(tmp_path):
    import gzip
    import random

    known = _known_items()
    words = ["Gesundheitsämter", "Gesundheitsämtern", "Landkreisen", "Landkreise", "Infektionen",
             "Infektion", "Schülerinnen", "Schülerin", "Maßnahmen", "Maßnahme", "Verordnungen",
             "Verordnung", "Bürgermeister", "Bürgermeisters", "Kliniken", "Klinik", "Prüfungen",
             "Prüfung", "Quarantäne", "Quarantänen"]
    rng = random.Random(3)
    texts = [" ".join(rng.sample(words, 7)) for _ in range(30)]
    duplicate = " ".join(words[:12])
    records = [{"id": f"fang-{n}", "header": "", "article": text} for n, text in enumerate(texts)]
    records += [{"id": "copy-a", "header": "", "article": duplicate},
                {"id": "copy-b", "header": "", "article": duplicate}]
    with gzip.open(tmp_path / "part-000.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(json.dumps(r, ensure_ascii=False) for r in records))
    stats: dict = {}
    items, total = known.generate(tmp_path, 100, 7, stats)
    assert total == 32 and items and stats["not_distinctive"] >= 2
    targets = {doc_id for doc_id, _, _ in items}
    assert not targets & {"copy-a", "copy-b"}
    by_id = {r["id"]: {w.lower() for w in r["article"].split()} for r in records}
    for doc_id, exact, inflected in items:
        chosen = {w.lower() for w in exact}
        assert chosen <= by_id[doc_id]
        # No other article holds the three words (nor their other forms: checked by the
        # generator with its own inflections; here the words as they stand).
        assert [d for d, held in by_id.items() if d != doc_id and chosen <= held] == []
        assert any(known.UMLAUT.search(w) for w in exact)
        assert [w.lower() for w in inflected] != [w.lower() for w in exact]
    # The same seed gives the same items.
    assert known.generate(tmp_path, 100, 7)[0] == items
