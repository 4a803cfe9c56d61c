"""The bounded LRU cache (search/cache.py) and the caches built on it."""

from __future__ import annotations

import random
import threading

import pytest
from whoosh import fields, index as whoosh_index

from search import Engine, Settings, cache, highlight, index_paths, storage
from search.analysis.chains import chain_for
from search.backends.whoosh import searching
from search.backends.whoosh.backend import StoredFields
from search.cache import BoundedCache
from search.ranking import exactness
from support.corpora import SAMPLE_CORPUS


@pytest.fixture(autouse=True)
def without_budget():
    """Every cache of the process is shed under a memory budget when the process is over
    it, as a process running many tests is: these tests count entries without one."""
    cache.configure(Settings(worker_memory_mb=0))
    yield
    cache.configure(Settings())


def test_entries_are_evicted_least_recently_used_first():
    cache = BoundedCache(3)
    for key in "abc":
        assert cache.put(key, key.upper()) == key.upper()
    assert list(cache) == ["a", "b", "c"] and len(cache) == 3 and cache.total == 3
    cache.put("d", "D")
    assert list(cache) == ["b", "c", "d"]
    assert cache.get("a") is None and cache.get("a", "none") == "none"
    cache.put("e", "E")
    assert list(cache) == ["c", "d", "e"] and len(cache) == 3 and cache.total == 3


def test_get_refreshes_recency_and_peek_does_not():
    cache = BoundedCache(3)
    for key in "abc":
        cache.put(key, key * 2)
    assert cache.get("a") == "aa"  # "a" is now the most recently used
    assert cache.peek("b") == "bb"  # "b" stays the least recently used
    cache.put("d", "dd")
    assert list(cache) == ["c", "a", "d"]
    assert "b" not in cache and "a" in cache
    assert cache.peek("zz") is None


def test_the_first_value_put_for_a_key_is_kept():
    cache = BoundedCache(10, size=len)
    first = ["first"]
    assert cache.put("k", first) is first
    assert cache.put("k", ["second", "x"]) is first  # answered the value held
    assert cache.get("k") is first and cache.total == 1 and len(cache) == 1


def test_sizes_bound_the_total_not_the_number_of_entries():
    cache = BoundedCache(100, size=len)
    cache.put(1, "x" * 40)
    cache.put(2, "y" * 40)
    assert cache.total == 80 and len(cache) == 2
    cache.put(3, "z" * 30)  # 110 > 100: the oldest goes
    assert list(cache) == [2, 3] and cache.total == 70
    cache.put(4, "w" * 30)  # exactly at the limit: nothing goes
    assert list(cache) == [2, 3, 4] and cache.total == 100
    cache.put(5, "v", size=71)  # a size given to put overrides size(value)
    assert list(cache) == [5] and cache.total == 71


def test_an_entry_over_the_limit_alone_is_kept_until_the_next():
    cache = BoundedCache(10, size=len)
    cache.put("a", "a" * 5)
    cache.put("big", "b" * 50)
    assert list(cache) == ["big"] and cache.total == 50
    assert cache.get("big") == "b" * 50
    cache.put("c", "c" * 3)
    assert list(cache) == ["c"] and cache.total == 3


def test_clear_forgets_every_entry_and_the_total():
    cache = BoundedCache(100, size=len)
    for i in range(5):
        cache.put(i, "x" * (i + 1))
    assert cache.total == 15
    cache.clear()
    assert len(cache) == 0 and cache.total == 0 and list(cache) == []
    assert cache.get(0) is None
    cache.put("again", "xy")
    assert cache.total == 2 and cache.get("again") == "xy"


def test_caches_sharing_a_lock_work_apart():
    lock = threading.RLock()
    a, b = BoundedCache(2, lock=lock), BoundedCache(2, lock=lock)
    a.put(1, "a1")
    b.put(1, "b1")
    with lock:  # re-entrant: the holder may use both caches
        assert a.get(1) == "a1" and b.get(1) == "b1"
        a.clear()
    assert a.get(1) is None and b.get(1) == "b1"


def test_threads_putting_and_getting_keep_the_cache_consistent():
    limit = 500
    cache = BoundedCache(limit, size=len)
    errors: list = []
    seen = [0] * 8

    def value(key: int) -> str:
        return str(key) * (1 + key % 17)

    def work(n: int):
        rng = random.Random(n)
        try:
            for i in range(3000):
                key = min(rng.randrange(200), rng.randrange(200))  # small keys often
                found = cache.get(key)
                if found is None:
                    found = cache.put(key, value(key))
                else:
                    seen[n] += 1
                if found != value(key):
                    errors.append((key, found))
                if i % 500 == 0 and n == 0:
                    cache.clear()
        except Exception as error:  # reported below, with the thread that saw it
            errors.append((n, repr(error)))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert sum(seen) > 0  # some gets were hits
    keys = list(cache)
    assert len(keys) == len(set(keys)) == len(cache) > 0
    held = {key: cache.peek(key) for key in keys}
    assert all(found == value(key) for key, found in held.items())
    assert cache.total == sum(len(found) for found in held.values())
    assert cache.total <= limit


def test_settings_without_a_memory_budget_lift_the_caps_a_budget_left():
    held = BoundedCache(10)
    for key in "abcdefgh":
        held.put(key, key)
    held.shrink(0.5)  # as memory pressure does: 4 entries kept, and 4 the cap
    for key in "ijkl":
        held.put(key, key)
    assert len(held) == 4 and held.cap == 4
    cache.configure(Settings(worker_memory_mb=0))
    assert held.cap is None
    for key in "mnop":
        held.put(key, key)
    assert len(held) == 8


def _one_cache(setting: str) -> BoundedCache:
    """The process-wide cache sized by ``setting``."""
    (found,) = cache.sized_by(setting)
    return found


def test_lowered_texts_are_kept_and_counted_as_before():
    lowered = _one_cache("lowered_cache_chars")
    lowered.clear()
    items = [("Das Treffen", "In MÜNCHEN"), ("Ein Titel", "Muenchen")]
    forms = exactness.query_forms(["München"])
    counts = [exactness.held_forms_lowered(exactness.lowered_text(*item), forms) for item in items]
    assert counts == [1, 1]
    held = len("das treffen in münchen") + 200 + len("ein titel muenchen") + 200
    assert len(lowered) == 2 and lowered.total == held
    assert exactness.lowered_text(*items[0]) is exactness.lowered_text(*items[0])
    assert len(lowered) == 2 and lowered.total == held  # kept, not lowercased again
    assert lowered.limit == Settings().lowered_cache_chars
    lowered.clear()


def test_text_stretches_are_kept_and_counted_as_before():
    texts = _one_cache("snippet_cache_chars")
    texts.clear()
    chain = chain_for("de")
    text = "Ein Satz. " * 100
    terms = frozenset(chain.terms("Satz"))
    first = highlight.snippet(text, terms, chain, scan_chars=300, fast=True)
    # the text, and about a stretch of it lowercased
    assert len(texts) == 1 and texts.total == len(text) + 300 + 200
    assert highlight.snippet(text, terms, chain, scan_chars=300, fast=True) == first
    assert len(texts) == 1
    highlight.snippet(text, terms, chain, scan_chars=400, fast=True)
    assert len(texts) == 2 and texts.total == 2 * len(text) + 300 + 400 + 2 * 200
    assert texts.limit == Settings().snippet_cache_chars
    assert highlight.snippet(text, terms, chain, scan_chars=300, fast=False) == first
    texts.clear()


def test_stored_fields_are_read_once_and_bounded_by_characters(tmp_path):
    schema = fields.Schema(id=fields.ID(stored=True), title=fields.STORED, text=fields.STORED)
    ix = whoosh_index.create_in(str(tmp_path), schema)
    with ix.writer() as writer:
        for i in range(4):
            writer.add_document(id=str(i), title=f"Titel {i}", text="x" * 1000 * (i + 1))
    documents = StoredFields(6000)
    with ix.searcher() as searcher:
        reads = []

        class Counting:
            def stored_fields(self, docnum):
                reads.append(docnum)
                return searcher.stored_fields(docnum)

        counting = Counting()
        first = documents.get(counting, 0)
        assert first["id"] == "0" and len(first["text"]) == 1000
        assert documents.get(counting, 0) is first and reads == [0]
        for docnum in (1, 2):  # 1207 + 2207 + 3207 = 6621 > 6000: document 0 goes
            assert documents.get(counting, docnum)["id"] == str(docnum)
        documents.get(counting, 2)
        documents.get(counting, 1)  # held: neither is read again; 2 is now the oldest
        assert reads == [0, 1, 2]
        documents.get(counting, 0)  # read again; document 2 goes
        documents.get(counting, 1)
        assert reads == [0, 1, 2, 0]
        documents.get(counting, 2)
        assert reads == [0, 1, 2, 0, 2]
    ix.close()


def test_caches_are_sized_by_the_settings_of_the_engine_that_opened_last(tmp_path):
    settings = Settings(index_dir=tmp_path / "ix")
    index_paths([SAMPLE_CORPUS], settings)
    small = settings.with_changes(postings_cache_bytes=5000, snippet_cache_chars=3000)
    try:
        with Engine(small) as engine:
            assert engine.search("Menschen").total > 2
            assert [c.limit for c in cache.sized_by("postings_cache_bytes")] == [5000]
            texts = _one_cache("snippet_cache_chars")
            assert texts.limit == 3000 and 0 < texts.total
            assert texts.total <= 3000 or len(texts) == 1
            engine.search("Region Talheim")
            assert texts.total <= 3000 or len(texts) == 1
        with Engine(settings) as engine:
            engine.stats()
            assert texts.limit == Settings().snippet_cache_chars
    finally:
        cache.configure(Settings())


def test_clear_all_empties_every_cache_of_the_process(tmp_path):
    settings = Settings(index_dir=tmp_path / "ix")
    index_paths([SAMPLE_CORPUS], settings)
    mine = BoundedCache(10)
    mine.put("a", 1)
    process_wide = [item["name"] for item in Settings.describe() if item["group"] == "caches"]
    with Engine(settings) as engine:
        assert engine.search("Menschen").total > 2
        generation = storage.current_generation(settings.index_dir)
        assert searching.segments_read(generation)
        filled = {name for name in process_wide if any(len(c) for c in cache.sized_by(name))}
        assert {"postings_cache_bytes", "norms_cache_bytes", "snippet_cache_chars",
                "lowered_cache_chars"} <= filled
        cache.clear_all()
        assert len(mine) == 0 and mine.total == 0
        assert all(len(c) == 0 and c.total == 0
                   for name in process_wide for c in cache.sized_by(name))
        assert not searching.segments_read(generation)
