"""The known-item query generator of the evaluation (benchmarks/eval_known_items.py)."""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter

from support.benchmarks import benchmark


def _known_items():
    return benchmark("eval_known_items")


def test_known_item_inflections_keep_a_word_a_form_of_itself():
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


def test_known_items_keep_shared_words_and_skip_near_copies(tmp_path):
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
    assert total == 32 and items and stats["near_copy"] == 2
    targets = {doc_id for doc_id, _, _ in items}
    assert not targets & {"copy-a", "copy-b"}
    by_id = {r["id"]: {w.lower() for w in r["article"].split()} for r in records}
    for doc_id, exact, inflected in items:
        chosen = {w.lower() for w in exact}
        assert chosen <= by_id[doc_id]
        assert any(known.UMLAUT.search(w) for w in exact)
        assert [w.lower() for w in inflected] != [w.lower() for w in exact]
    # Other articles may hold the same words (the hard cases stay): here many do.
    assert any(d != doc_id and {w.lower() for w in exact} <= held
               for doc_id, exact, _ in items for d, held in by_id.items())
    # The same seed gives the same items.
    assert known.generate(tmp_path, 100, 7)[0] == items
