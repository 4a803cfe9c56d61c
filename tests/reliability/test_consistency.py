"""Index consistency: an incremental run leaves exactly what a rebuild of the same folder holds.

Found by the concurrency test: an id written twice in one incremental run (an
article that moves from one file to another, a record repeated in a file)
left two documents with that id, and the stale one stayed searchable for
ever after its file was deleted.
"""

from __future__ import annotations

import json

from search import Engine, Settings, index_paths


def _contents(index_dir) -> dict:
    """Every document of the index: id → (title, text); fails on a repeated id."""
    with Engine(Settings(index_dir=index_dir)) as engine:
        result = engine.search("date:0001..9999 OR Text OR Datensatz OR Meldung", per_page=100)
        ids = [hit["id"] for hit in result.hits]
        assert engine.stats()["documents"] == len(set(ids)), ("documents", ids)
        found = {}
        for article_id in ids:
            article = engine.article(article_id)
            found[article_id] = (article["title"], article["text"])
        return found


def _write_jsonl(path, records) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")


def test_ids_moving_between_files_in_one_run(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Titel A\n\nErster Text über Apfelbäume.\n", encoding="utf-8")
    (corpus / "b.txt").write_text("Titel B\n\nAnderer Text über Birnen.\n", encoding="utf-8")
    incremental = Settings(index_dir=tmp_path / "incremental")
    assert index_paths([corpus], incremental).added == 2

    # One run: a.txt changes, and a JSON Lines file takes over the ids "a" and "b"
    # (the second one twice), and adds one more.
    (corpus / "a.txt").write_text("Titel A\n\nGeänderter Text über Kirschen.\n", encoding="utf-8")
    _write_jsonl(corpus / "z.jsonl", [
        {"id": "a", "title": "Datensatz A", "text": "Ein Datensatz über Pflaumen."},
        {"id": "b", "title": "Datensatz B", "text": "Ein Datensatz über Quitten."},
        {"id": "b", "title": "Datensatz B2", "text": "Ein Datensatz über Mirabellen."},
        {"id": "c", "title": "Datensatz C", "text": "Eine Meldung über Feigen."},
    ])
    index_paths([corpus], incremental)
    rebuilt = Settings(index_dir=tmp_path / "rebuilt")
    index_paths([corpus], rebuilt, rebuild=True)
    assert _contents(incremental.index_dir) == _contents(rebuilt.index_dir)
    with Engine(incremental) as engine:
        assert engine.search("Kirschen").total == 0
        assert engine.search("Quitten").total == 0
        assert [hit["id"] for hit in engine.search("Mirabellen").hits] == ["b"]

    # The text files go: nothing of them may stay behind.
    (corpus / "a.txt").unlink()
    (corpus / "b.txt").unlink()
    index_paths([corpus], incremental)
    index_paths([corpus], rebuilt, rebuild=True)
    assert _contents(incremental.index_dir) == _contents(rebuilt.index_dir)
    assert sorted(_contents(incremental.index_dir)) == ["a", "b", "c"]


def test_an_article_added_and_removed_in_one_run_leaves_nothing(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "keep.txt").write_text("Titel\n\nEin Text über Linden.\n", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    index_paths([corpus], settings)
    # The record "x" is written from one.jsonl, then moved to two.jsonl and dropped
    # there again in a later run: the last run must leave no copy of it.
    _write_jsonl(corpus / "one.jsonl", [{"id": "x", "text": "Ein Datensatz über Eschen."}])
    _write_jsonl(corpus / "two.jsonl", [{"id": "x", "text": "Ein Datensatz über Ulmen."}])
    index_paths([corpus], settings)
    (corpus / "one.jsonl").unlink()
    _write_jsonl(corpus / "two.jsonl", [{"id": "y", "text": "Ein Datensatz über Buchen."}])
    index_paths([corpus], settings)
    with Engine(settings) as engine:
        for word in ("Eschen", "Ulmen"):
            assert engine.search(word).total == 0, word
        assert engine.search("Buchen").total == 1
    rebuilt = Settings(index_dir=tmp_path / "rebuilt")
    index_paths([corpus], rebuilt, rebuild=True)
    assert _contents(settings.index_dir) == _contents(rebuilt.index_dir)
