"""Reading only the posting blocks an AND can still match gives the same answers.

An index of 1,500 real articles (a frequent word's posting list then spans many
blocks of 128 postings) is searched with ANDs of a rare and a frequent word and
with phrases, both ways round: the fast path reading only the blocks that can
hold a document the rarer words matched must give exactly what it gives when
it reads every block, and what Whoosh's own matchers give; and it must read
fewer blocks. The index is read from its posting blocks only
(``Settings(compact_postings=False)``), as a segment without compact posting
arrays is (one added by Whoosh's own writer; a fresh build's compact arrays
are compared in test_compact_postings.py).

A corpus from ../shared/corpora that is missing fails the test (never skips).
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter

import pytest

from search import Engine, Settings, index_paths
from search.backends.whoosh import postings, searching
from search import query as q
from search.analysis.chains import chain_for
from support.corpora import SHARED_CORPORA as SHARED

PARTS = ("part-004.jsonl.gz", "part-011.jsonl.gz", "part-021.jsonl.gz")
WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{4,}")
STOP = chain_for("de").stopwords


def _frequency(records) -> Counter:
    """In how many articles each lowercase word (not a stopword) is."""
    frequency = Counter()
    for record in records:
        frequency.update({w.lower() for w in WORD.findall(record["article"])} - STOP)
    return frequency


def _records() -> list[dict]:
    records = []
    for part in PARTS:
        path = SHARED / "fang-covid-real" / part
        if not path.exists():
            pytest.fail(f"shared corpus missing: {path} (this test needs the real corpora in "
                        f"../shared/corpora beside the repository, or NEWSSEARCH_CORPORA)",
                        pytrace=False)
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle):
                if number >= 500:
                    break
                records.append(json.loads(line))
    return records


@pytest.fixture(autouse=True)
def nothing_decoded():
    postings.clear_caches()
    yield
    postings.clear_caches()


def _engine(index_dir, **changes) -> Engine:
    """An engine reading the index from its posting blocks only; without a memory budget,
    which in a process as large as a test run's would shed the cached lists counted here."""
    return Engine(Settings(index_dir=index_dir, compact_postings=False, worker_memory_mb=0,
                           **changes))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    records = _records()
    folder = tmp_path_factory.mktemp("blocks")
    (folder / "articles.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("index")
    report = index_paths([folder], Settings(index_dir=index_dir))
    assert report.added > 1400 and not report.problems
    return index_dir, records


def _queries(records) -> list[str]:
    """ANDs of a rare and a frequent word (both orders) and phrases of a frequent
    word beside a rarer one, taken from the articles."""
    frequency = _frequency(records)
    frequent = [w for w, n in frequency.most_common(60) if n > 150][:8]
    rare = sorted(w for w, n in frequency.items() if 2 <= n <= 4)[::97][:8]
    assert len(frequent) >= 6 and len(rare) >= 6
    queries = []
    for a, b in zip(rare, frequent):
        queries += [f"{a} {b}", f"{b} {a}"]
    queries.append(f"{frequent[0]} {rare[0]} {frequent[1]}")
    phrases = []
    for record in records[::3]:
        words = WORD.findall(record["article"])
        for left, right in zip(words, words[1:]):
            pair = (left.lower(), right.lower())
            if (pair[0] in frequent) != (pair[1] in frequent) and \
                    0 < min(frequency[pair[0]], frequency[pair[1]]) <= 5:
                phrases.append(f'"{left} {right}"')
                break
        if len(phrases) >= 10:
            break
    assert len(phrases) >= 6
    queries += phrases + ['"in der"', '"mehr als" Prozent', f'"{frequent[0]} {frequent[1]}"']
    return queries


def _ranking(engine: Engine, queries, cold: bool = False, sorts=("relevance", "date")) -> list:
    """Totals, facets and hits with their unrounded scores, as the engine's settings
    search (``cold``: every query with no decoded posting list, position or block
    header kept from before)."""
    out = []
    with engine.session() as session:
        for text in queries:
            if cold:
                postings.clear_caches()
            compiled = session.compile(q.parse(text))
            for sort in sorts:
                results = searching.run(session.searcher, compiled, filter_query=None, limit=500,
                                        sort=sort, settings=engine.settings)
                hits = [(stored["id"], score)
                        for stored, score in searching.page_hits(results, 0, 500, sort)]
                out.append((text, sort, len(results), searching.facet_counts(results), hits))
    return out


def _fast(index_dir, queries, skip: bool, cold: bool = True,
          sorts=("relevance", "date")) -> tuple[list, int]:
    """What the fast path answers reading some blocks (``skip``) or all, and how many
    blocks it decoded."""
    before = postings.BLOCKS_DECODED[0]
    runs = searching.RUNS["fast"]
    with _engine(index_dir, skip_blocks=skip) as engine:
        found = _ranking(engine, queries, cold, sorts)
    assert searching.RUNS["fast"] - runs == len(queries) * len(sorts)
    return found, postings.BLOCKS_DECODED[0] - before


def test_reading_some_blocks_answers_as_reading_all(built):
    index_dir, records = built
    queries = _queries(records)
    skipping, some = _fast(index_dir, queries, True)
    every, all_blocks = _fast(index_dir, queries, False)
    # the whole lists read by a run that skips nothing are used when cached
    postings.clear_caches()
    _fast(index_dir, queries, False, cold=False)
    warm, again = _fast(index_dir, queries, True, cold=False)
    runs = searching.RUNS["whoosh"]
    with _engine(index_dir, fast_search=False) as engine:
        whoosh = _ranking(engine, queries)
    assert searching.RUNS["whoosh"] - runs == len(queries) * 2
    assert sum(1 for row in skipping if row[2]) > 30
    # exactly the same numbers, whichever blocks were read
    assert skipping == every == warm
    assert some < all_blocks * 0.85, (some, all_blocks)
    assert again == 0
    for a, b in zip(skipping, whoosh):
        assert a[:4] == b[:4], a[:2]
        assert [i for i, _ in a[4]] == [i for i, _ in b[4]], a[:2]
        for (_, x), (_, y) in zip(a[4], b[4]):
            assert x == pytest.approx(y, rel=1e-9, abs=1e-12), a[:2]


def test_blocks_are_skipped_for_a_rare_word_and_a_frequent_one(built):
    index_dir, records = built
    frequency = _frequency(records)
    frequent = frequency.most_common(1)[0][0]
    assert frequency[frequent] > 600
    rare = sorted(w for w, n in frequency.items() if n == 2)[0]
    counts = {}
    for skip in (True, False):
        found, blocks = _fast(index_dir, [f"{rare} {frequent}"], skip, sorts=("relevance",))
        counts[skip] = (blocks, found)
    assert counts[True][1] == counts[False][1]
    assert counts[True][1][0][2] >= 1
    # the frequent word's list spans several blocks in each of its fields; only those
    # holding the rare word's few documents are read
    assert counts[True][0] * 2 < counts[False][0], counts


def test_engines_open_at_once_read_blocks_as_their_own_settings_say(built):
    """Two engines on one index share what is read of its segments, yet each reads the
    posting blocks as its own settings say."""
    index_dir, records = built
    frequency = _frequency(records)
    frequent = frequency.most_common(1)[0][0]
    rare = sorted(w for w, n in frequency.items() if n == 2)[0]
    query = [f"{rare} {frequent}"]
    decoded: dict = {True: [], False: []}
    with _engine(index_dir, skip_blocks=True) as skipping, \
            _engine(index_dir, skip_blocks=False) as every:
        for engine in (skipping, every, skipping, every):
            before = postings.BLOCKS_DECODED[0]
            found = _ranking(engine, query, cold=True, sorts=("relevance",))
            decoded[engine.settings.skip_blocks].append((postings.BLOCKS_DECODED[0] - before,
                                                         found))
    assert decoded[True][0] == decoded[True][1] and decoded[False][0] == decoded[False][1]
    assert decoded[True][0][1] == decoded[False][0][1] and decoded[True][0][1][0][2] >= 1
    assert decoded[True][0][0] * 2 < decoded[False][0][0], decoded
