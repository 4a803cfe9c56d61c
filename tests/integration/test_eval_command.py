"""The ``newssearch eval`` command on a real index of XQuAD-de (240 passages, 632 questions)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from search import Settings, index_paths
from support.corpora import shared_file
from web.cli import main


def xquad(name: str) -> str:
    return str(shared_file("xquad-de-retrieval", name))


@pytest.fixture(scope="module")
def xquad_index(tmp_path_factory):
    docs = xquad("docs.de.jsonl")
    folder = tmp_path_factory.mktemp("xquad") / "index"
    report = index_paths([docs], Settings(index_dir=folder), rebuild=True)
    assert report.documents == 240
    return folder


def test_eval_command_on_xquad(xquad_index, tmp_path):
    run = tmp_path / "run.trec"
    result = CliRunner().invoke(main, [
        "eval", "--index", str(xquad_index), "--queries", xquad("queries.de.jsonl"),
        "--qrels", xquad("qrels.de.trec"), "--run-out", str(run), "--json"])
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
                                       xquad("queries.de.jsonl"), "--qrels", str(qrels)])
    assert result.exit_code == 1
