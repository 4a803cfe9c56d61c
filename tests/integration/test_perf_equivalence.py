"""The fast paths give exactly what the plain Whoosh paths give, on real data.

* The segment builder (``Settings(segment_builder=True)``) writes the same postings,
  term statistics, stored fields, lengths, columns and vocabulary as Whoosh's
  own writer (``segment_builder=False``), and every search over the two indexes
  answers alike.
* The fast search (one scoring pass, column facets) answers like Whoosh's
  sorting and grouping collectors: ids, order, scores, totals, facets, snippets.
* The fast snippets equal the word-by-word ones.
* The function-word language check agrees with langdetect on the mixed corpora.

A corpus from ../shared/corpora that is missing fails the test (never skips).
"""

from __future__ import annotations

import gzip
import json
import os
import random
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index

from search import Engine, Settings, cache, highlight, index_paths, storage
from search.backends.whoosh import searching
from search.analysis.chains import chain_for
from search.ingest.language import detect_language, quick_language
from search.analysis.spelling import Vocabulary
from support.corpora import SHARED_CORPORA as SHARED

FANG = SHARED / "fang-covid-real"


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"shared corpus missing: {path} (these tests need the real corpora in "
                    f"../shared/corpora beside the repository, or NEWSSEARCH_CORPORA)",
                    pytrace=False)
    return path


def fang_records(part: str, count: int, skip: int = 0) -> list[dict]:
    records = []
    with gzip.open(shared("fang-covid-real", part), "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number < skip:
                continue
            if len(records) >= count:
                break
            records.append(json.loads(line))
    return records


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Three files of real articles, months apart."""
    folder = tmp_path_factory.mktemp("fang")
    first = fang_records("part-003.jsonl.gz", 160)
    second = fang_records("part-015.jsonl.gz", 160)
    third = fang_records("part-026.jsonl.gz", 120)
    for name, records in (("a.jsonl", first), ("b.jsonl", second), ("c.jsonl", third)):
        (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                           for r in records), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def indexes(corpus, tmp_path_factory) -> dict:
    built = {}
    for name, fast in (("fast", True), ("plain", False)):
        folder = tmp_path_factory.mktemp(name)
        # Two workers so that the parallel reading path is what is compared.
        settings = Settings(index_dir=folder, segment_builder=fast, index_workers=2)
        report = index_paths([corpus], settings)
        assert report.added == 440 and not report.problems
        built[name] = folder
    return built


def _dump(index_dir: Path) -> dict:
    ix = whoosh_index.open_dir(str(storage.current_generation(index_dir)))
    with ix.reader() as reader:
        postings = {}
        for fieldname, text in reader.all_terms():
            info = reader.term_info(fieldname, text)
            matcher = reader.postings(fieldname, text)
            items = []
            while matcher.is_active():
                items.append((matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
            postings[(fieldname, text)] = (
                info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                info.max_weight(), info.min_id(), info.max_id(), tuple(items))
        live = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
        stored = [reader.stored_fields(d) for d in live]
        lengths = {f: [reader.doc_field_length(d, f) for d in live] for f in ("title", "text")}
        totals = {f: reader.field_length(f) for f in ("title", "text")}
        columns = {f: [reader.column_reader(f)[d] for d in live]
                   for f in ("date_sort", "month", "lang", "source")}
    ix.close()
    return {"postings": postings, "stored": stored, "lengths": lengths, "totals": totals,
            "columns": columns}


def test_segment_builder_writes_what_whoosh_writes(indexes):
    fast, plain = _dump(indexes["fast"]), _dump(indexes["plain"])
    assert len(fast["stored"]) == len(plain["stored"]) == 440
    assert fast["stored"] == plain["stored"]
    assert fast["lengths"] == plain["lengths"]
    assert fast["totals"] == plain["totals"]
    assert fast["columns"] == plain["columns"]
    assert fast["postings"].keys() == plain["postings"].keys()
    different = [key for key in plain["postings"] if fast["postings"][key] != plain["postings"][key]]
    assert different == []
    vocabularies = [Vocabulary.load(storage.current_generation(indexes[n])).counts
                    for n in ("fast", "plain")]
    assert vocabularies[0] == vocabularies[1]


def test_a_later_record_replaces_an_earlier_one_in_a_fresh_build(tmp_path):
    records = fang_records("part-007.jsonl.gz", 40)
    changed = dict(records[3], article=records[3]["article"] + "\nNachtrag: Zahlen korrigiert.")
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                              for r in records), encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(json.dumps(changed, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    report = index_paths([tmp_path], Settings(index_dir=tmp_path / "ix"))
    assert (report.added, report.updated, report.documents) == (40, 1, 40)
    with Engine(Settings(index_dir=tmp_path / "ix")) as engine:
        article = engine.article(changed["id"])
        assert article["text"].endswith("Zahlen korrigiert.")
        assert engine.search("Nachtrag Zahlen korrigiert").total >= 1
        assert engine.stats()["documents"] == 40


def _queries(corpus: Path) -> list[dict]:
    rng = random.Random(11)
    words = []
    for path in sorted(corpus.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines()[:40]:
            record = json.loads(line)
            words.extend(w for w in record["header"].split() if w.isalpha() and len(w) > 4)
    words = sorted(set(words))
    queries = [{"q": w} for w in rng.sample(words, 25)]
    queries += [{"q": " ".join(rng.sample(words, 2))} for _ in range(10)]
    queries += [{"q": q} for q in ("Corona", "Merkel", "Impfstoff Biontech", '"Angela Merkel"',
                                   "Impf*", "Lockdown -Schule", "title:Corona", "Corona OR Grippe",
                                   "Maske date:2020-04", "Wirtschaft source:zeit.de",
                                   "Kanzlerin Merkel Pressekonferenz Bundesländer")]
    queries += [{"q": "Corona", "sort": "date"}, {"q": "Merkel", "page": 3},
                {"q": "Corona", "source": "sueddeutsche.de"},
                {"q": "Regierung", "date_from": "2020-04", "date_to": "2020-05"},
                {"q": "Virus", "per_page": 50},
                # several facets filtered: each counted over the other filters
                {"q": "Corona", "source": ["zeit.de", "sueddeutsche.de"], "lang": "de",
                 "date_from": "2020-04"},
                {"q": "Merkel OR Spahn", "source": "zeit.de", "date_to": "2020-06"}]
    return queries


def _answers(engine: Engine, queries) -> list[dict]:
    """The API answers of ``queries``; the search and snippet paths the engine's settings
    ask for must be the ones that ran."""
    settings = engine.settings
    runs, snippets = searching.RUNS.copy(), highlight.PATHS.copy()
    out = []
    for item in queries:
        params = dict(item)
        result = engine.search(params.pop("q"), **params).to_dict()
        result.pop("took_ms")
        out.append(result)
    search_path = "fast" if settings.fast_search else "whoosh"
    snippet_path = "fast" if settings.fast_snippets else "plain"
    assert searching.RUNS[search_path] > runs[search_path]
    assert sum(searching.RUNS.values()) - sum(runs.values()) == \
        searching.RUNS[search_path] - runs[search_path]
    assert highlight.PATHS[snippet_path] > snippets[snippet_path]
    assert sum(highlight.PATHS.values()) - sum(snippets.values()) == \
        highlight.PATHS[snippet_path] - snippets[snippet_path]
    return out


def _plain(index_dir: Path) -> Settings:
    """Settings for Whoosh's collectors and word-by-word snippets (no time budget: the
    paths are compared, and a loaded machine must not cut one of them short)."""
    return Settings(index_dir=index_dir, fast_search=False, fast_snippets=False,
                    search_time_budget_seconds=0)


def test_fast_search_answers_like_whoosh_collectors(indexes, corpus):
    queries = _queries(corpus)
    with Engine(Settings(index_dir=indexes["fast"], search_time_budget_seconds=0)) as engine:
        fast = _answers(engine, queries)
    with Engine(_plain(indexes["fast"])) as engine:
        plain = _answers(engine, queries)
    assert sum(1 for r in fast if r["total"]) > 30
    for item, a, b in zip(queries, fast, plain):
        assert a == b, item


def test_indexes_built_both_ways_answer_alike(indexes, corpus):
    queries = _queries(corpus)
    answers = []
    for name in ("fast", "plain"):
        with Engine(_plain(indexes[name])) as engine:
            answers.append(_answers(engine, queries))
    for item, a, b in zip(queries, *answers):
        assert a == b, item


def _raw_ranking(engine: Engine, queries, fast: bool) -> list:
    """Every query's total, facets and first 200 hits with their unrounded scores, run
    through ``searching.run`` directly (plain reading and, for word lists, the any mode)."""
    from search import query as q

    settings = engine.settings.with_changes(fast_search=fast)
    path = "fast" if fast else "whoosh"
    runs = searching.RUNS[path]
    out = []
    with engine.session() as session:
        for item in queries:
            tree = q.parse(item["q"])
            readings = [session.compile(tree)]
            if q.is_plain_conjunction(tree):
                readings.append(session.any_of(tree))
            for compiled in readings:
                if compiled is None:
                    continue
                filters = searching.build_filter(session.reader, source=item.get("source"),
                                                 date_from=item.get("date_from"),
                                                 date_to=item.get("date_to"))
                for sort in ("relevance", "date"):
                    results = searching.run(session.searcher, compiled, filter_query=filters,
                                            limit=200, sort=sort, settings=settings)
                    hits = [(stored["id"], score)
                            for stored, score in searching.page_hits(results, 0, 200, sort)]
                    out.append((item["q"], sort, len(results), searching.facet_counts(results),
                                hits))
    assert searching.RUNS[path] - runs == len(out)
    return out


# Frequent words of the FANG articles (an OR of 70 such words took 56 s before its parts
# were scored on the posting arrays).
FREQUENT_WORDS = ("Corona", "Menschen", "Pandemie", "Deutschland", "Regierung", "Virus",
                  "Prozent", "Zahl", "Maßnahmen", "Bundesregierung", "Krise", "Land", "Woche",
                  "Schulen", "Merkel", "Infektionen", "Länder", "Jahr", "Tage", "Wirtschaft")


def test_fast_scores_equal_whoosh_matcher_scores(indexes, corpus):
    """Scores are computed with numpy in another order of additions than Whoosh's
    matchers use, so they may differ in the last bits: equal to 1e-9, relative; the
    order, totals and facets are exactly the same."""
    queries = _queries(corpus) + [{"q": "Merkel Spahn Lauterbach Drosten"},
                                  {"q": "Schule -Corona"}, {"q": '"Robert Koch" Institut'},
                                  {"q": '"Robert Koch Institut"'}, {"q": '"in den vergangenen Tagen"'},
                                  {"q": '"mehr als" Prozent'}, {"q": 'title:"Angela Merkel"'},
                                  {"q": "-Corona"}, {"q": "NOT Merkel NOT Spahn", "source": "zeit.de"},
                                  {"q": '(Impfung OR Impfstoff) "Robert Koch" -Biontech'},
                                  {"q": "title:Impfung OR Maske", "source": "zeit.de"},
                                  {"q": "Impf* Biontech", "date_from": "2020-11"},
                                  # ORs of words, prefixes and phrases scored part by part
                                  {"q": " OR ".join(FREQUENT_WORDS)},
                                  {"q": " OR ".join(FREQUENT_WORDS[:12]), "source": "zeit.de"},
                                  {"q": 'Impf* OR Masken* OR "Robert Koch" OR Merkel'},
                                  {"q": "(Schule OR Kita) OR (Merkel Spahn)"}]
    with Engine(Settings(index_dir=indexes["fast"])) as engine:
        fast = _raw_ranking(engine, queries, True)
        plain = _raw_ranking(engine, queries, False)
        stats = engine.stats()
    with Engine(_plain(indexes["fast"])) as engine:
        assert engine.stats() == stats
    assert len(fast) == len(plain) > 100
    assert sum(1 for row in fast if row[2]) > 60
    for a, b in zip(fast, plain):
        assert a[:4] == b[:4], a[:3]
        assert [i for i, _ in a[4]] == [i for i, _ in b[4]], a[:3]
        for (_, x), (_, y) in zip(a[4], b[4]):
            assert x == pytest.approx(y, rel=1e-9, abs=1e-12), a[:3]


def test_date_ranges_from_the_column_match_the_trie_terms(indexes):
    """The fast path reads a date filter from the date column; Whoosh matches its trie
    terms: the same documents."""
    from search.backends.whoosh import postings

    spans = [("2020", "2020"), ("2020-03", "2020-05"), ("2020-03-15", "2020-03-15"),
             ("0001", "9999"), ("2021-12", "2021-12"), ("2019-01", "2020-01-01"),
             ("2020-04-30", "2020-05-02"), ("2030", "2031")]
    checked = 0
    settings = Settings(index_dir=indexes["fast"])
    with Engine(settings) as engine, engine.session() as session:
        for start, end in spans:
            low, _ = searching.date_bounds(start, start)
            _, high = searching.date_bounds(end, end)
            query = searching.DateSortRange(low, high)
            for sub, _ in session.searcher.leaf_searchers():
                arrays = searching.segment_columns(sub, settings).arrays
                via_column = postings.docs_of(query, sub, arrays).tolist()
                via_terms = sorted(query.docs(sub))
                assert via_column == via_terms, (start, end)
                checked += len(via_terms)
    assert checked > 400


def test_fast_search_on_an_index_with_deletions(corpus, tmp_path):
    """An incremental run that removes and changes articles leaves deleted documents in
    the segments; the fast path must not count or rank them."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for path in sorted(corpus.glob("*.jsonl")):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "ix")
    index_paths([folder], settings)
    lines = (folder / "b.jsonl").read_text(encoding="utf-8").splitlines()
    changed = [json.loads(line) for line in lines[:20]]
    for record in changed:
        record["article"] += "\nNachtrag: Corona Merkel Lockdown."
    (folder / "b.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                            for r in changed), encoding="utf-8")
    (folder / "c.jsonl").unlink()
    report = index_paths([folder], settings)
    assert report.documents == 180
    queries = _queries(corpus)
    with Engine(settings) as engine:
        with engine.session() as session:
            assert session.reader.has_deletions() and session.reader.doc_count_all() > 180
        fast = _answers(engine, queries)
    with Engine(settings.with_changes(fast_search=False)) as engine:
        plain = _answers(engine, queries)
    assert sum(1 for r in fast if r["total"]) > 20
    assert all(r["total"] <= 180 for r in fast)
    for item, a, b in zip(queries, fast, plain):
        assert a == b, item


def test_exact_form_count_equals_folding_the_text():
    """``exactness.held_forms`` (a search per form) counts what folding every word of the
    text counts."""
    from search.ranking.exactness import folded_words, held_forms, query_forms

    rng = random.Random(5)
    texts = [r["header"] + " " + r["article"] for r in fang_records("part-019.jsonl.gz", 200)]
    texts += ["In München, Straße 5: das Treffen", "ssss sßs ßß ssß", "Gruesse und Grüße",
              "aee äe Übersee", "MÜNCHEN STRASSE Fußball"]
    words = sorted({w for t in texts[:100] for w in t.split() if w.isalpha()})
    tricky = ["Muenchen", "STRASSE", "Straße", "ssss", "Grüße", "Gruesse", "äe", "aee",
              "Ueberseeee", "Fußball", "Fussball", "Übersee"]
    checked = found = 0
    for text in texts:
        for _ in range(5):
            forms = query_forms(rng.sample(words, 2) + rng.sample(tricky, 2))
            expected = len(forms & folded_words(text))
            assert held_forms(text, forms) == expected, (forms, text[:80])
            checked += 1
            found += expected > 0
    assert checked == len(texts) * 5 and found > 100


def test_fast_snippets_equal_plain_ones():
    chain = chain_for("de")
    rng = random.Random(3)
    cases = []
    for record in fang_records("part-012.jsonl.gz", 150):
        text = record["article"]
        terms = chain.terms(text)
        for k in (1, 2, 3):
            cases.append((text, frozenset(rng.sample(terms, min(k, len(terms))))))
    cases.append(("ΟΔΟΣ'Α İstanbul: Häuser, HAUS und Haus.", frozenset(chain.terms("Haus"))))
    cases.append(("Haus " * 100 + "İstanbul " * 100 + "Häuser " * 100, frozenset(chain.terms("Haus"))))

    def run(scan_chars=Settings().snippet_scan_chars, fast=True):
        return ([highlight.snippet(t, terms, chain, scan_chars=scan_chars, fast=fast)
                 for t, terms in cases]
                + [highlight.highlight_paragraphs(t, terms, chain, fast=fast)
                   for t, terms in cases])

    plain = run(fast=False)
    plain_short = run(scan_chars=300, fast=False)  # several stretches a text
    assert run() == plain
    assert run() == plain  # the texts' stretches and words now kept
    assert run(scan_chars=300) == plain_short
    assert sum(1 for html, _ in plain_short[:len(cases)] if "<mark>" in html) > 300
    # the stems forgotten every few hundred words: the kept stretches are split again
    cache.configure(Settings(stems_cache_words=300))
    try:
        assert run(scan_chars=300) == plain_short
        assert run() == plain
    finally:
        cache.configure(Settings())


def _mixed_corpora() -> dict[str, list[str]]:
    fang = []
    for part in ("part-002.jsonl.gz", "part-011.jsonl.gz", "part-024.jsonl.gz"):
        fang += [r["header"] + "\n" + r["article"] for r in fang_records(part, 250)]
    bbc_files = sorted(shared("bbc-en").rglob("*.txt"))
    bbc = [p.read_bytes().decode("utf-8", errors="replace") for p in bbc_files[::3]]
    lemonde = []
    with open(shared("lemonde-rss-fr", "lemonde_economie_2022.jsonl"), encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number % 4 == 0:
                record = json.loads(line)
                lemonde.append(record["title"] + "\n" + record["description"])
    return {"de": fang, "en": bbc, "fr": lemonde}


def test_language_check_agrees_with_langdetect():
    """Where the function-word check answers, langdetect must give the same language
    (elsewhere langdetect itself decides, so both paths agree by construction)."""
    for expected, texts in _mixed_corpora().items():
        decided = disagree = 0
        for text in texts:
            quick = quick_language(text[:1000])
            if quick is None:
                continue
            decided += 1
            if detect_language(text, quick=False) != quick:
                disagree += 1
        agreement = 1 - disagree / len(texts)
        assert agreement >= 0.995, (expected, disagree, len(texts))
        assert decided >= len(texts) * (0.95 if expected != "fr" else 0.3), (expected, decided)
        # and the whole detector, as the indexer calls it, names the corpus's language
        named = sum(1 for text in texts if detect_language(text) == expected)
        assert named >= len(texts) * 0.99, (expected, named, len(texts))


def _run_folders(index_dir: Path) -> list[Path]:
    return sorted(Path(index_dir).glob("**/.runs-*")) + sorted(Path(index_dir).glob("**/.postings-*"))


def test_one_segment_merged_from_runs_in_two_halves_holds_the_same(indexes, corpus,
                                                                   tmp_path, monkeypatch):
    """A small memory budget makes the builder spill its postings as runs while it reads on
    (each run sorted by a thread); the end merges them into one segment, every
    text field written by two processes: the index holds exactly what Whoosh's writer
    wrote, and no run is left behind."""
    from search.backends.whoosh import segments

    spilled = []
    finish = segments.SegmentBuilder.finish

    def counting_finish(builder):
        spilled.append((len(builder.runs), builder.run_root))
        return finish(builder)

    monkeypatch.setattr(segments.SegmentBuilder, "finish", counting_finish)
    settings = Settings(index_dir=tmp_path / "ix", index_workers=2, writer_memory_mb=1,
                        min_run_postings=30_000, split_min_postings=1)
    report = index_paths([corpus], settings)
    assert report.added == 440
    (runs, run_root), = spilled
    assert runs >= 3 and run_root is not None  # several runs were spilled ...
    generation = storage.current_generation(tmp_path / "ix")
    assert len(list(generation.glob("*.trm"))) == 1  # ... into one segment
    assert not os.path.exists(run_root) and _run_folders(tmp_path / "ix") == []
    built, plain = _dump(tmp_path / "ix"), _dump(indexes["plain"])
    assert built["stored"] == plain["stored"]
    assert built["lengths"] == plain["lengths"] and built["columns"] == plain["columns"]
    assert built["totals"] == plain["totals"]
    assert built["postings"].keys() == plain["postings"].keys()
    different = [key for key in plain["postings"] if built["postings"][key] != plain["postings"][key]]
    assert different == []


@pytest.mark.parametrize("failing", ["spill", "merge"])
def test_a_failed_build_leaves_no_runs_and_the_previous_index(corpus, tmp_path, monkeypatch,
                                                              failing):
    """A run that fails to be sorted (in its own thread) or a merge that fails ends
    the build with an error; the runs are removed and the previous index stays current."""
    from search.backends.whoosh import segments

    index_dir = tmp_path / "ix"
    index_paths([corpus / "a.jsonl"], Settings(index_dir=index_dir))
    before = storage.current_generation(index_dir)
    if failing == "spill":
        sort = segments.SortedRun.of

        def broken(postings, folder=None):  # a run that cannot be written
            if folder is not None:
                raise OSError("disk full")
            return sort(postings, folder)

        monkeypatch.setattr(segments.SortedRun, "of", broken)
    else:
        def broken(merged, first, last):
            raise OSError("disk full")

        monkeypatch.setattr(segments.MergedRuns, "read", broken)
    roots = set()
    spill = segments.SegmentBuilder.spill

    def noting_spill(builder):
        spill(builder)
        roots.add(builder.run_root)

    monkeypatch.setattr(segments.SegmentBuilder, "spill", noting_spill)
    with pytest.raises((RuntimeError, OSError)):
        index_paths([corpus], Settings(index_dir=index_dir, writer_memory_mb=1,
                                       min_run_postings=30_000), rebuild=True)
    assert roots and None not in roots and not any(os.path.exists(r) for r in roots)
    assert _run_folders(index_dir) == []
    assert storage.current_generation(index_dir) == before
    with Engine(Settings(index_dir=index_dir)) as engine:
        assert engine.stats()["documents"] == 160


def test_position_values_read_with_numpy_equal_whoosh_decoding():
    """Positions values (Whoosh's encoding) read all at once with numpy give the positions
    Whoosh decodes one by one; values of any other form are unpickled one by one."""
    import pickle
    import struct

    from whoosh.formats import Positions

    from search.backends.whoosh.internals import parse_position_deltas, position_deltas

    rng = random.Random(11)
    fmt = Positions()
    lists = []
    for _ in range(3000):
        count = rng.choice([1, 1, 1, 2, 3, 8, 60])
        lists.append(sorted(rng.sample(range(rng.choice([200, 70_000, 3_000_000])), count)))
    values = [fmt.encode(p) for p in lists]
    values = [v[:-1] if i % 4 == 0 else v for i, v in enumerate(values)]  # STOP left off

    def positions(found):
        sizes, deltas = found
        assert list(sizes) == [len(p) for p in lists]
        out, at = [], 0
        for size in sizes:
            out.append(list(np.cumsum(deltas[at:at + size])))
            at += size
        return out

    assert parse_position_deltas(values) is not None
    assert positions(position_deltas(values)) == lists
    assert positions(position_deltas(values)) == [fmt.decode_positions(v if v.endswith(b".")
                                                                        else v + b".")
                                                   for v in values]
    # other forms: a list pickled in batches, a later protocol, a count that does not match
    batched = [fmt.encode(list(range(1500)))] + values[:40]
    later = [struct.pack(">I", len(p)) + pickle.dumps(p, 4) for p in lists[:40]]
    wrong = [struct.pack(">I", len(lists[0]) + 1) + values[0][4:]] + values[1:40]
    for odd in (batched, later, wrong):
        assert parse_position_deltas(odd) is None
        sizes, deltas = position_deltas(odd)
        expected = [pickle.loads(v[4:] if v.endswith(b".") else v[4:] + b".") for v in odd]
        assert list(sizes) == [len(e) for e in expected]
        assert list(deltas) == [d for e in expected for d in e]
