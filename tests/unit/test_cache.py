"""The bounded LRU cache (search/cache.py) and the caches built on it."""

from __future__ import annotations

import random
import threading

from whoosh import fields, index as whoosh_index

from search import highlight
from search.ranking import exactness
from search.backends.whoosh.backend import _chars, _StoredFields
from search.cache import BoundedCache


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


def test_lowered_texts_are_kept_and_counted_as_before():
    exactness._LOWERED.clear()
    lowered = exactness._lowered("Das Treffen", "In MÜNCHEN")
    assert lowered == "das treffen in münchen"
    assert exactness._lowered("Das Treffen", "In MÜNCHEN") is lowered
    assert exactness._LOWERED.total == len(lowered) + 200
    assert exactness._LOWERED.limit == exactness.LOWERED_CACHE_CHARS
    exactness._LOWERED.clear()


def test_text_stretches_are_kept_and_counted_as_before():
    highlight._TEXTS.clear()
    text = "Ein Satz. " * 100
    stretches = highlight._text_stretches(text, 300)
    assert [(s.start, s.end) for s in stretches] == list(highlight._stretches(text, 300))
    assert highlight._text_stretches(text, 300) is stretches
    assert highlight._text_stretches(text, 400) is not stretches
    assert highlight._TEXTS.total == highlight._text_cost(text, 300) + highlight._text_cost(text, 400)
    assert highlight._TEXTS.limit == highlight.TEXT_CACHE_CHARS
    highlight._TEXTS.clear()


def test_stored_fields_are_read_once_and_bounded_by_characters(tmp_path, monkeypatch):
    schema = fields.Schema(id=fields.ID(stored=True), title=fields.STORED, text=fields.STORED)
    ix = whoosh_index.create_in(str(tmp_path), schema)
    with ix.writer() as writer:
        for i in range(4):
            writer.add_document(id=str(i), title=f"Titel {i}", text="x" * 1000 * (i + 1))
    monkeypatch.setattr(_StoredFields, "LIMIT_CHARS", 6000)
    documents = _StoredFields()
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
        assert list(documents._found) == [1, 2]
        assert documents._found.total == sum(_chars(searcher.stored_fields(d)) for d in (1, 2))
        documents.get(counting, 0)  # read again; document 1 goes
        assert reads == [0, 1, 2, 0] and list(documents._found) == [2, 0]
    ix.close()


def test_clear_all_empties_every_cache_of_the_process():
    from search import cache
    from search.backends.whoosh import postings, searching

    mine = BoundedCache(10)
    mine.put("a", 1)
    exactness._lowered("Titel", "Ein Text")
    postings._CACHE.put(("segment", "text", b"wort"), ([1, 2], [1.0, 1.0]))
    searching._COLUMNS[("folder", "segment")] = object()
    assert len(mine) and len(exactness._LOWERED) and postings._CACHE and searching._COLUMNS
    cache.clear_all()
    assert len(mine) == 0 and mine.total == 0
    assert len(exactness._LOWERED) == 0 and len(highlight._TEXTS) == 0
    assert not postings._CACHE and not searching._COLUMNS
