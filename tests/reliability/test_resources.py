"""Resources: no file-handle growth across 10,000 searches and 50 reindexes.

One engine stays open (as in a server) while the index is rebuilt and updated
50 times in the same process; 10,000 searches (plus article, related and stats
calls) run between the reindexes. The open file descriptors are counted in
/proc/self/fd: none may point into a generation other than the current one or
to a deleted file, and the count must come back to where it started.
"""

from __future__ import annotations

import gc
import itertools

import pytest

from search import Engine, Settings, index_paths
from search.storage import current_generation
from support.commands import open_fds
from support.corpora import SAMPLE_CORPUS, copy_tree

REINDEXES = 50
SEARCHES = 10_000
QUERIES = ["Bundestag", "Häuser München", '"neue Tramlinie"', "Hitze*", "Schule OR Klinik",
           "title:Reform", "Pflege -Heim", "lang:en council", "date:2023", "zzzunbekannt",
           "Strasse", "Grundsteuer Reform Koalition Berlin Einigung"]


def _index_fds(fds: dict, index_dir) -> dict:
    prefix = str(index_dir) + "/"
    return {fd: target for fd, target in fds.items() if target.startswith(prefix)}


@pytest.mark.slow
def test_no_file_handle_growth_across_searches_and_reindexes(tmp_path):
    corpus = copy_tree(SAMPLE_CORPUS, tmp_path / "corpus")
    settings = Settings(index_dir=tmp_path / "index")
    assert index_paths([corpus], settings).added > 50
    changing = corpus / "changing.txt"
    queries = itertools.cycle(QUERIES)
    with Engine(settings) as engine:
        # Warm up: first use of every call, one reindex followed.
        for query in QUERIES:
            engine.search(query)
        changing.write_text("Titel null\n\nDer Marker wortnull steht hier.\n", encoding="utf-8")
        index_paths([corpus], settings)
        first = engine.search("Bundestag").hits[0]["id"]
        engine.article(first, query="Bundestag")
        engine.more_like(first)
        engine.stats()
        # Without the cycle collector, only what the engine closes itself is released: a
        # searcher left to the garbage collector would show as growth.
        gc.collect()
        gc.disable()
        try:
            baseline = open_fds()
            base_other = len(baseline) - len(_index_fds(baseline, settings.index_dir))
            peak = len(baseline)
            searches = 0
            for round_number in range(1, REINDEXES + 1):
                marker = f"wort{round_number}x"
                changing.write_text(f"Titel {round_number}\n\nDer Marker {marker} steht hier.\n",
                                    encoding="utf-8")
                report = index_paths([corpus], settings, rebuild=round_number % 10 == 0)
                assert report.updated == 1 or report.rebuilt, report.to_dict()
                # The new text is found at once, the old one is gone.
                assert engine.search(marker).total == 1
                assert engine.search(f"wort{round_number - 1}x").total == 0
                for _ in range(SEARCHES // REINDEXES - 2):
                    result = engine.search(next(queries), per_page=3)
                    searches += 1
                    if result.hits and searches % 25 == 0:
                        engine.article(result.hits[0]["id"], query="Reform")
                        engine.more_like(result.hits[0]["id"])
                        engine.stats()
                searches += 2
                peak = max(peak, len(open_fds()))
            final = open_fds()
        finally:
            gc.enable()
    assert searches >= SEARCHES
    current = current_generation(settings.index_dir)
    index_fds = _index_fds(final, settings.index_dir)
    # Nothing of a retired generation and no deleted file is held open.
    stale = {fd: t for fd, t in index_fds.items()
             if "(deleted)" in t or not t.startswith(str(current) + "/")}
    assert not stale, stale
    # Only the current generation's files, each open once (one searcher) or twice (a
    # file and its memory map).
    files = [p for p in current.iterdir() if p.is_file()]
    assert len(index_fds) <= 2 * len(files), (index_fds, files)
    assert len(set(index_fds.values())) <= len(files)
    # Everything else is as it was, and the peak stayed close to the start.
    assert len(final) - len(index_fds) <= base_other, (baseline, final)
    assert peak <= len(baseline) + 4 * len(files), (peak, len(baseline), len(files))
    after_close = open_fds()
    assert not _index_fds(after_close, settings.index_dir), after_close
