"""Near-duplicate clusters on real FANG articles, on both backends.

The articles are a slice of one FANG part (the members of three known clusters
and the first articles of the rest by id), so that each build takes seconds.

- A known pair of copies of one report from two outlets (sueddeutsche.de and
  tagesspiegel.de, 23 November 2020) is one hit, the other listed under it;
  with collapse off, two hits.
- Clusters stay right across incremental runs that add, change and delete
  articles, and equal those of a rebuild of the same files, article by
  article (cluster ids included).
- Whoosh: the collapse on arrays (fast path) answers exactly as Whoosh's own
  collapse facet (plain path), on the suite's index of two FANG parts.
  (Xapian's collapse over remote shards is compared with the local cluster in
  ``test_xapian_cluster.py``, on that module's shards.)

Self-contained: corpus files are read from ../shared/corpora beside the
checkout (the test fails, never skips, when they are missing).
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
from pathlib import Path

import pytest

from search import Engine, Settings, index_paths

REPO = Path(__file__).resolve().parents[2]
FANG = REPO.parent / "shared" / "corpora" / "fang-covid-real"
PART = "part-020.jsonl.gz"
# One dpa report on 23 November 2020: sueddeutsche.de and tagesspiegel.de.
PAIR = ("fang-21734", "fang-27788")
# Two more clusters of that part: versions of one Süddeutsche article each.
VERSIONS = (("fang-17687", "fang-20043"), ("fang-18463", "fang-18916"))
BACKENDS = {"whoosh": {}, "xapian": {"backend": "xapian", "shards": 2}}
# Articles of the slice beside the clustered ones: none of them has a near-duplicate
# among the others.
OTHERS = 120


def read_part(name: str = PART) -> list[dict]:
    path = FANG / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: the tests read the real corpora from ../shared/corpora "
                    f"beside the checkout", pytrace=False)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def settings_for(backend: str, folder: Path, **changes) -> Settings:
    return Settings(index_dir=folder, **BACKENDS[backend], **changes)


def searching(folder: Path, **changes) -> Engine:
    """An engine that searches the index in ``folder`` (the backend is told by the folder)."""
    return Engine(Settings(index_dir=folder, **changes))


@pytest.fixture(scope="module")
def fang() -> dict:
    return {record["id"]: record for record in read_part()}


def clustered_ids() -> set[str]:
    return {*PAIR, *VERSIONS[0], *VERSIONS[1]}


def unclustered_ids(fang: dict) -> list[str]:
    return sorted(i for i in fang if i not in clustered_ids())


@pytest.fixture(scope="module")
def slice_corpus(fang, tmp_path_factory) -> Path:
    """A folder with one file: the members of the known clusters and OTHERS more articles."""
    folder = tmp_path_factory.mktemp("dups-slice")
    ids = sorted(clustered_ids()) + unclustered_ids(fang)[:OTHERS]
    write_jsonl(folder / "slice.jsonl", [fang[i] for i in ids])
    return folder


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def part_index(request, slice_corpus, tmp_path_factory):
    backend = request.param
    folder = tmp_path_factory.mktemp(f"dups-{backend}") / "index"
    report = index_paths([slice_corpus], settings_for(backend, folder))
    assert report.documents == len(clustered_ids()) + OTHERS, report.to_dict()
    return backend, folder


# -- the known pair ------------------------------------------------------------------


def test_copies_from_two_outlets_are_one_hit(part_index, fang):
    backend, folder = part_index
    with searching(folder) as engine:
        folded = engine.search("Janik Möser Herzmuskelentzündung")
        every = engine.search("Janik Möser Herzmuskelentzündung", collapse=False)
        first, second = PAIR

        ids = [hit["id"] for hit in every.hits]
        assert first in ids and second in ids
        assert not every.collapse and every.stories is None and every.folded == 0
        assert all(hit["duplicates"] == [] and hit["folded"] == 0 for hit in every.hits)

        assert folded.collapse
        assert folded.total == every.total  # totals count articles either way
        assert folded.facets == every.facets
        assert folded.stories == every.total - 1 and folded.folded == 1
        heads = [hit["id"] for hit in folded.hits]
        assert len(heads) == len(ids) - 1
        # The best-ranked of the two stands for both, where it stood without collapsing.
        best = min(PAIR, key=ids.index)
        other = second if best == first else first
        assert other not in heads and heads.index(best) == ids.index(best)
        hit = folded.hits[heads.index(best)]
        assert hit["folded"] == 1
        record = fang[other]
        assert hit["duplicates"] == [{"id": other, "title": record["header"],
                                      "source": record["source"],
                                      "date": hit["duplicates"][0]["date"], "url": record["url"]}]
        assert hit["duplicates"][0]["date"][:10] == record["day"]
        assert {h["source"] for h in (hit, hit["duplicates"][0])} == {"sueddeutsche.de",
                                                                      "tagesspiegel.de"}

        # Any query that finds both folds them, sorted by date too (the newer one stands).
        by_date = engine.search("Möser Eishockey Herzmuskelentzündung", sort="date")
        stands = {h["id"]: [d["id"] for d in h["duplicates"]] for h in by_date.hits}
        newer = max(PAIR, key=lambda i: fang[i]["date"].replace(" ", "T")[:19])
        assert stands.get(newer) == [first if newer == second else second]

        # The article page's data: its cluster and the other version.
        article = engine.article(second)
        assert article["cluster"] == min(PAIR)
        assert [v["id"] for v in article["versions"]] == [first]
        assert engine.article(first)["cluster"] == min(PAIR)
        alone = [engine.article(i) for i in ids if i not in PAIR]
        alone = [a for a in alone if not a["versions"]]
        assert alone and all(a["cluster"] == a["id"] for a in alone)

        stats = engine.stats()["duplicates"]
        assert stats["clusters"] >= 3 and stats["articles"] >= 6


def test_comparing_the_two_versions(part_index, fang):
    backend, folder = part_index
    with searching(folder) as engine:
        comparison = engine.compare(*PAIR)
        assert comparison["first"]["id"] == PAIR[0] and comparison["second"]["id"] == PAIR[1]
        text = comparison["text"]
        assert 0.8 < text["similarity"] < 1.0
        assert text["removed"] > 0 and text["added"] > 0 and not text["truncated"]
        ops = [segment["op"] for paragraph in text["paragraphs"] for segment in paragraph]
        assert {"same", "removed", "added"} <= set(ops)
        # The segments put the texts back together: the same, plus removed = A; plus added = B.
        old = " ".join(s["text"] for p in text["paragraphs"] for s in p if s["op"] != "added")
        new = " ".join(s["text"] for p in text["paragraphs"] for s in p if s["op"] != "removed")
        assert old.split() == fang[PAIR[0]]["article"].split()
        assert new.split() == fang[PAIR[1]]["article"].split()
        assert engine.compare(PAIR[0], "no-such-article") is None


# -- clusters across incremental runs ------------------------------------------------------


def cluster_table(engine: Engine, ids) -> dict:
    """Every article's cluster id and the members of its cluster, as the index holds them."""
    table = {}
    for article_id in sorted(ids):
        article = engine.article(article_id)
        assert article is not None, article_id
        members = frozenset([article_id, *(v["id"] for v in article["versions"])])
        table[article_id] = (article["cluster"], members)
    return table


def expected_groups(table: dict) -> set[frozenset]:
    return {members for _, members in table.values() if len(members) > 1}


def rebuilt_table(backend: str, files, folder: Path, ids, **changes) -> dict:
    """The cluster table of a fresh build of ``files``. Its clusters come from datasketch's
    LSH index (``duplicate_scan_limit=0``); incremental runs of a few articles compare
    signatures directly instead: the two must agree."""
    if folder.exists():
        shutil.rmtree(folder)
    changes.setdefault("duplicate_scan_limit", 0)
    report = index_paths(files, settings_for(backend, folder, **changes), rebuild=True)
    assert not report.problems, report.problems
    with searching(folder) as engine:
        return cluster_table(engine, ids)


def reworded(text: str, seed: int) -> str:
    """``text`` with three words swapped for others: a near-copy of it."""
    words = text.split()
    rng = random.Random(seed)
    for at in rng.sample(range(len(words)), 3):
        words[at] = "Korrekturwort"
    return " ".join(words)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_clusters_stay_right_across_runs_and_equal_a_rebuild(backend, fang, tmp_path):
    clustered = {PAIR[0], VERSIONS[0][0], *VERSIONS[1]}
    base = [fang[i] for i in sorted(clustered)] + [fang[i] for i in unclustered_ids(fang)[:40]]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "base.jsonl", base)
    write_jsonl(corpus / "second.jsonl", [fang[PAIR[1]]])
    index = tmp_path / "index"
    settings = settings_for(backend, index)

    def check(step: str, expected: set[frozenset], rebuild: bool = False) -> dict:
        files = sorted(corpus.iterdir())
        ids = {json.loads(line)["id"] for path in files
               for line in path.read_text(encoding="utf-8").split("\n") if line.strip()}
        with searching(index) as engine:
            table = cluster_table(engine, ids)
            assert engine.stats()["documents"] == len(ids), step
            stats = engine.stats()["duplicates"]
        assert expected_groups(table) == expected, step
        for cluster, members in table.values():
            assert cluster == min(members), (step, cluster, members)
        assert stats == {"clusters": len(expected), "articles": sum(map(len, expected))}, step
        if rebuild:
            assert rebuilt_table(backend, files, tmp_path / "rebuilt", ids) == table, step
        return table

    # 1. A first build: the pair across outlets and one pair of versions.
    report = index_paths([corpus], settings)
    assert report.added == len(base) + 1
    pair, versions, more = frozenset(PAIR), frozenset(VERSIONS[0]), frozenset(VERSIONS[1])
    table = check("first build", {pair, more})
    if backend == "whoosh":  # Whoosh's own writer (not the segment builder) agrees
        assert rebuilt_table(backend, sorted(corpus.iterdir()), tmp_path / "writer", set(table),
                             segment_builder=False) == table

    # 2. Added: the other version of fang-17687 joins it.
    write_jsonl(corpus / "third.jsonl", [fang[VERSIONS[0][1]]])
    report = index_paths([corpus], settings)
    assert (report.added, report.updated, report.removed) == (1, 0, 0)
    check("added", {pair, versions, more})

    # 3. Changed: the tagesspiegel copy is rewritten (it leaves the pair); two near-copies
    #    come in, one of them with an id before every other, which becomes its cluster's
    #    id (so the untouched members get a new cluster id).
    rewritten = dict(fang[PAIR[1]], article=" ".join(reversed(fang[PAIR[1]]["article"].split())))
    write_jsonl(corpus / "second.jsonl", [rewritten])
    first_copy = dict(fang[VERSIONS[0][0]], id="aaa-copy",
                      article=reworded(fang[VERSIONS[0][0]]["article"], 1))
    last_copy = dict(fang[VERSIONS[1][0]], id="zzz-copy",
                     article=reworded(fang[VERSIONS[1][0]]["article"], 2))
    write_jsonl(corpus / "third.jsonl", [fang[VERSIONS[0][1]], first_copy, last_copy])
    report = index_paths([corpus], settings)
    assert (report.added, report.updated, report.removed) == (2, 1, 0)
    table = check("changed", {versions | {"aaa-copy"}, more | {"zzz-copy"}}, rebuild=True)
    assert table[VERSIONS[0][0]][0] == "aaa-copy"
    assert table[PAIR[0]] == (PAIR[0], frozenset([PAIR[0]]))
    with searching(index) as engine:
        folded = engine.search(" ".join(fang[VERSIONS[0][0]]["header"].split()[:4]))
        head = next(h for h in folded.hits if h["id"] in versions | {"aaa-copy"})
        assert head["folded"] == 2
        assert {d["id"] for d in head["duplicates"]} == (versions | {"aaa-copy"}) - {head["id"]}

    # 4. Deleted: the third file goes; fang-17687 stands alone again, under its own id.
    (corpus / "third.jsonl").unlink()
    report = index_paths([corpus], settings)
    assert (report.added, report.updated, report.removed) == (0, 0, 3)
    table = check("deleted", {more}, rebuild=True)
    assert table[VERSIONS[0][0]] == (VERSIONS[0][0], frozenset([VERSIONS[0][0]]))

    # 5. Changed back: the copy joins its pair again.
    write_jsonl(corpus / "second.jsonl", [fang[PAIR[1]]])
    report = index_paths([corpus], settings)
    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    check("changed back", {pair, more})
    assert index_paths([corpus], settings).changed == 0


# -- the two ways of collapsing give the same answers -------------------------------------


def _queries(fang: dict, count: int) -> list[dict]:
    rng = random.Random(20240611)
    words = sorted({w for r in fang.values() for w in r["header"].split()
                    if len(w) > 5 and w.isalpha()})
    queries = [{"q": "Corona"}, {"q": "Corona", "sort": "date"},
               {"q": "Coronavirus", "source": "tagesspiegel.de"}]
    while len(queries) < count:
        kind = len(queries) % 4
        a, b = rng.sample(words, 2)
        queries.append({"q": a} if kind == 0 else {"q": f"{a} OR {b}"} if kind == 1 else
                       {"q": a, "sort": "date"} if kind == 2 else {"q": f"{a[:4]}*"})
    return queries


def _answer(result) -> tuple:
    return (result.total, result.stories, result.folded, result.facets,
            [(h["id"], h["score"], h["folded"], [d["id"] for d in h["duplicates"]])
             for h in result.hits])


def test_collapse_on_arrays_equals_whooshs_collapse_facet(news_index, news_engine):
    plain = Engine(Settings(index_dir=news_index.index_dir, fast_search=False))
    folded_somewhere = 0
    with plain:
        for item in _queries(news_index.fang, 30):
            params = {k: v for k, v in item.items() if k != "q"}
            for page in (1, 2):
                got = news_engine.search(item["q"], page=page, per_page=7, suggest=False,
                                         **params)
                want = plain.search(item["q"], page=page, per_page=7, suggest=False, **params)
                assert _answer(got) == _answer(want), item
                folded_somewhere += got.folded > 0
    assert folded_somewhere >= 5


# -- settings ------------------------------------------------------------------------------


def test_signing_settings_need_a_rebuild_and_a_threshold_does_not(fang, tmp_path):
    from search import InvalidSetting

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    ids = sorted(clustered_ids()) + unclustered_ids(fang)[:30]
    write_jsonl(corpus / "part.jsonl", [fang[i] for i in ids])
    folder = tmp_path / "index"
    index_paths([corpus], Settings(index_dir=folder))
    for change in ({"duplicate_shingle_words": 4}, {"duplicate_permutations": 64},
                   {"find_duplicates": False}):
        with pytest.raises(InvalidSetting, match="--rebuild"):
            index_paths([corpus], Settings(index_dir=folder, **change))
        with searching(folder) as engine:  # the index is as it was
            assert engine.article(PAIR[1])["cluster"] == min(PAIR)
    # Without signatures every article stands alone.
    report = index_paths([corpus], Settings(index_dir=folder, find_duplicates=False),
                         rebuild=True)
    assert report.rebuilt
    with searching(folder) as engine:
        assert engine.stats()["duplicates"] == {"clusters": 0, "articles": 0}
        assert engine.article(PAIR[1])["cluster"] == PAIR[1]
    # Signed again, then a higher threshold: the clusters are made again from the stored
    # signatures, without reading a file (every one is unchanged). At 0.96 only the pair
    # across outlets (estimated similarity 0.98) stays a cluster; the two pairs of
    # versions (0.95) fall apart.
    index_paths([corpus], Settings(index_dir=folder), rebuild=True)
    with searching(folder) as engine:
        assert engine.stats()["duplicates"] == {"clusters": 3, "articles": 6}
    report = index_paths([corpus], Settings(index_dir=folder, duplicate_threshold=0.96))
    assert report.changed == 0
    with searching(folder) as engine:
        assert engine.stats()["duplicates"] == {"clusters": 1, "articles": 2}
        table = cluster_table(engine, ids)
    assert expected_groups(table) == {frozenset(PAIR)}
    assert rebuilt_table("whoosh", sorted(corpus.iterdir()), tmp_path / "rebuilt", ids,
                         duplicate_threshold=0.96) == table


def test_an_index_written_before_clusters_were_kept_is_searched(tmp_path):
    """An index whose schema has no cluster field (written before near-duplicates were
    clustered) answers searches, articles and trends, every article its own story."""
    from whoosh import index as whoosh_index

    from search.storage import current_generation

    folder = tmp_path / "index"
    source = tmp_path / "corpus"
    shutil.copytree(Path(__file__).resolve().parents[2] / "corpus", source)
    index_paths([source], Settings(index_dir=folder))
    generation = current_generation(folder)
    written = whoosh_index.open_dir(str(generation))
    writer = written.writer()
    writer.remove_field("cluster")
    writer.commit(optimize=True)
    assert "cluster" not in whoosh_index.open_dir(str(generation)).schema

    with Engine(Settings(index_dir=folder)) as engine:
        collapsed = engine.search("Impfung", suggest=False)
        every = engine.search("Impfung", suggest=False, collapse=False)
        assert collapsed.total == every.total > 0
        assert [h["id"] for h in collapsed.hits] == [h["id"] for h in every.hits]
        assert all(not h["duplicates"] for h in collapsed.hits)
        assert engine.article(every.hits[0]["id"])["versions"] == []
        assert engine.trends(["Impfung"])["series"][0]["total"] == every.total


def test_an_article_written_again_for_its_cluster_keeps_its_authors(tmp_path):
    """An article a later copy joins is written again with its new cluster, from its
    stored fields: all of them, its authors too."""
    words = " ".join(f"Wort{n} Meldung{n * 7 % 13} Stadt{n % 5}" for n in range(60))
    first = {"id": "erste", "title": "Eine Meldung", "text": words, "date": "2020-05-01",
             "source": "zeit.de", "authors": ["Anna Beispiel", "Bernd Muster"]}
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "a.jsonl", [first])
    settings = Settings(index_dir=tmp_path / "index")
    index_paths([corpus], settings)
    # The copy's id comes first, so it names the cluster: the first article's cluster changes.
    copy = dict(first, id="aaa-kopie", source="tagesspiegel.de", authors=["Carla Kopie"])
    write_jsonl(corpus / "b.jsonl", [copy])
    index_paths([corpus], settings)
    with Engine(settings) as engine:
        article = engine.article("erste")
        assert article["cluster"] == engine.article("aaa-kopie")["cluster"] != "erste"
        assert article["authors"] == ["Anna Beispiel", "Bernd Muster"]
        assert [v["id"] for v in article["versions"]] == ["aaa-kopie"]
