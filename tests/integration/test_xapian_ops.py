"""Running a Xapian cluster: a shard dies and comes back, replicas, re-indexing, the CLI.

Every shard is a real ``xapian-tcpsrv`` on 127.0.0.1 with an ephemeral port,
stopped at teardown; every wait is bounded.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from support.commands import newssearch_command, wait_until
from support.corpora import REPO, SAMPLE_CORPUS
from support.xapian import Servers, require_tools

CORPUS = SAMPLE_CORPUS
QUERY = "Stadt"  # found in articles of both shards of the sample corpus


@pytest.fixture
def servers(tmp_path):
    require_tools()
    running = Servers(tmp_path)
    yield running
    running.stop_all()


@pytest.fixture
def cluster(tmp_path):
    from search import Settings
    from search.backends.xapian.indexer import index_cluster

    folder = tmp_path / "cluster"
    report = index_cluster([CORPUS], Settings(index_dir=folder, shards=2))
    assert report.added == report.documents > 40, report.to_dict()
    return folder


def _engine(remote: str):
    from search import Engine, Settings

    return Engine(Settings(backend="xapian", remote=remote, shard_retry_seconds=0.2,
                           shard_reopen_seconds=0.0, vocabulary_check_seconds=0.0))


def _ids(result):
    return [hit["id"] for hit in result.hits]


def test_the_bindings_speak_the_protocol_of_the_installed_tcpsrv():
    require_tools()
    import xapian

    tool = subprocess.run(["xapian-tcpsrv", "--version"], capture_output=True, text=True,
                          timeout=30).stdout
    assert xapian.version_string().startswith("1.4.")
    assert " 1.4." in tool, tool  # same release series: the same remote protocol


def test_a_killed_shard_gives_flagged_partial_results_and_full_ones_when_it_is_back(
        cluster, servers):
    from search.backends.xapian.document import shard_of
    from web import create_app

    _, port0 = servers.tcpsrv(cluster / "shard-00")
    second, port1 = servers.tcpsrv(cluster / "shard-01")
    engine = _engine(f"127.0.0.1:{port0},127.0.0.1:{port1}")
    full = engine.search(QUERY, per_page=50)
    assert full.shards == {"total": 2, "answered": 2}
    assert {shard_of(i, 2) for i in _ids(full)} == {0, 1}
    documents = engine.stats()["documents"]

    servers.stop(second)  # the engine's open connection to it breaks mid-life
    partial = engine.search(QUERY, per_page=50)
    assert partial.shards == {"total": 2, "answered": 1}
    assert partial.to_dict()["shards"] == {"total": 2, "answered": 1}
    assert _ids(partial) == [i for i in _ids(full) if shard_of(i, 2) == 0]
    assert partial.total == sum(1 for i in _ids(full) if shard_of(i, 2) == 0)
    assert sum(v["count"] for v in partial.facets["lang"]) == partial.total
    stats = engine.stats()
    assert stats["shards"] == {"total": 2, "answered": 1} and stats["documents"] < documents
    article_elsewhere = next(i for i in _ids(full) if shard_of(i, 2) == 1)
    assert engine.article(article_elsewhere) is None
    assert engine.article(_ids(partial)[0]) is not None

    app = create_app({"SETTINGS": engine.settings})
    client = app.test_client()
    page = client.get(f"/?q={QUERY}").get_data(as_text=True)
    assert "Nicht alle Teile des Archivs haben geantwortet (1 von 2)" in page
    api = client.get(f"/api/search?q={QUERY}").get_json()
    assert api["shards"] == {"total": 2, "answered": 1}

    servers.tcpsrv(cluster / "shard-01", port=port1)  # back, same address, no restart
    assert wait_until(lambda: engine.search(QUERY).shards["answered"] == 2, 15)
    again = engine.search(QUERY, per_page=50)
    assert _ids(again) == _ids(full) and again.total == full.total
    assert engine.stats()["documents"] == documents
    # The app's engine left the shard out a little later than this one: it tries again
    # once its own retry time has passed, without a restart.
    assert wait_until(lambda: "Nicht alle Teile" not in
                      client.get(f"/?q={QUERY}").get_data(as_text=True), 15)
    assert client.get(f"/api/search?q={QUERY}").get_json()["shards"] == \
        {"total": 2, "answered": 2}
    engine.close()


def test_no_shard_answering_is_an_empty_flagged_result(cluster, servers):
    from search.backends.xapian.serve import free_port

    engine = _engine(f"127.0.0.1:{free_port()},127.0.0.1:{free_port()}")
    result = engine.search(QUERY)
    assert result.shards == {"total": 2, "answered": 0}
    assert result.total == 0 and result.hits == []
    assert result.reason == "no shard of the index answered"
    engine.close()


def test_a_replica_serves_reads_after_catching_up(cluster, servers, tmp_path):
    from search import Engine, Settings
    from search.backends.xapian.document import shard_of
    from search.backends.xapian.indexer import index_cluster
    from search.backends.xapian.serve import free_port

    _, port0 = servers.tcpsrv(cluster / "shard-00")
    _, replication_port = servers.replication_server(cluster)
    replica = tmp_path / "replica" / "shard-01"

    def catch_up():
        subprocess.run([*newssearch_command(), "shard", "replicate", str(replica), "--from",
                        f"127.0.0.1:{replication_port}", "--shard", "shard-01", "--once"],
                       check=True, timeout=120, cwd=REPO)

    catch_up()
    _, replica_port = servers.tcpsrv(replica)
    dead = free_port()  # the primary of shard-01 is down: its replica answers instead
    engine = _engine(f"127.0.0.1:{port0},127.0.0.1:{dead}|127.0.0.1:{replica_port}")
    local = Engine(Settings(index_dir=cluster))
    got, expected = engine.search(QUERY, per_page=50), local.search(QUERY, per_page=50)
    assert got.shards == {"total": 2, "answered": 2}
    assert _ids(got) == _ids(expected) and got.facets == expected.facets

    # New articles on the primary reach the replica with the next catch-up.
    fresh = [f"neu-{n}" for n in range(400) if shard_of(f"neu-{n}", 2) == 1][:5]
    news = tmp_path / "news.jsonl"
    news.write_text("".join(json.dumps({
        "id": article_id, "title": f"Zeppelinwerft eröffnet Halle {article_id}",
        "text": "Die Zeppelinwerft in der Stadt eröffnet eine neue Halle für Luftschiffe.",
        "date": "2024-05-01"}, ensure_ascii=False) + "\n" for article_id in fresh),
        encoding="utf-8")
    report = index_cluster([CORPUS, news], Settings(index_dir=cluster))
    assert report.added == len(fresh)
    # Open shards look for new commits once a second (shard_reopen_seconds).
    assert wait_until(lambda: local.search("Zeppelinwerft").total == len(fresh), 15)
    assert engine.search("Zeppelinwerft").total == 0  # not replicated yet
    catch_up()
    assert wait_until(lambda: engine.search("Zeppelinwerft").total == len(fresh), 15)
    assert engine.search("Zeppelinwerft").shards == {"total": 2, "answered": 2}
    engine.close()
    local.close()


def test_reindexing_updates_in_place(tmp_path):
    from search import Engine, Settings, index_paths
    from search.backends.xapian.indexer import ClusterLayoutError, index_cluster

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    folder = tmp_path / "cluster"
    settings = Settings(index_dir=folder)
    first = index_cluster([corpus], settings.with_changes(shards=3))
    again = index_cluster([corpus], settings)
    assert again.added == again.updated == again.removed == 0
    assert again.unchanged == first.documents == again.documents

    feed = corpus / "agentur" / "meldungen.jsonl"
    lines = feed.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["body"] += " Ergänzt: Die Kuppelsanierung beginnt im Herbst."
    lines[0] = json.dumps(record, ensure_ascii=False)
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (corpus / "english" / "en_01_council-approves-protected-bike-lanes.txt").unlink()
    changed = index_cluster([corpus], settings)
    assert (changed.added, changed.updated, changed.removed) == (0, 1, 1), changed.to_dict()
    assert changed.documents == first.documents - 1
    with Engine(settings) as engine:
        assert engine.search("Kuppelsanierung").total == 1
        assert engine.stats()["documents"] == first.documents - 1
        assert engine.search("Kuppelsanierung").suggestion is None

    with pytest.raises(ClusterLayoutError):
        index_cluster([corpus], settings.with_changes(shards=2))
    rebuilt = index_cluster([corpus], settings.with_changes(shards=2), rebuild=True)
    assert rebuilt.added == first.documents - 1
    index_paths([corpus], Settings(index_dir=tmp_path / "whoosh"))
    with pytest.raises(ClusterLayoutError):
        index_cluster([corpus], Settings(index_dir=tmp_path / "whoosh", shards=2))


def test_cli_index_shard_serve_and_remote_search(tmp_path, servers):
    from search.backends.xapian import serve as xs

    folder = tmp_path / "cluster"
    done = subprocess.run([*newssearch_command(), "index", str(CORPUS), "--backend", "xapian",
                           "--shards", "2", "--index", str(folder), "--json"],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["documents"] > 40
    local = subprocess.run([*newssearch_command(), "search", QUERY, "--index", str(folder), "--json"],
                           capture_output=True, text=True, timeout=120, cwd=REPO)
    assert json.loads(local.stdout)["shards"] == {"total": 2, "answered": 2}

    endpoints = []
    for number in range(2):
        port = xs.free_port()
        process = subprocess.Popen([*newssearch_command(), "shard", "serve",
                                    str(folder / f"shard-{number:02d}"), "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True, cwd=REPO)
        servers.processes.append(process)
        assert wait_until(lambda: xs.port_open("127.0.0.1", port), 60), "shard serve did not listen"
        endpoints.append(f"127.0.0.1:{port}")
    remote = subprocess.run([*newssearch_command(), "search", QUERY, "--remote", ",".join(endpoints),
                             "--json"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert remote.returncode == 0, remote.stderr
    data = json.loads(remote.stdout)
    assert data["shards"] == {"total": 2, "answered": 2}
    assert data["hits"] == json.loads(local.stdout)["hits"]
    stats = subprocess.run([*newssearch_command(), "stats", "--remote", ",".join(endpoints), "--json"],
                           capture_output=True, text=True, timeout=120, cwd=REPO)
    assert json.loads(stats.stdout)["documents"] == json.loads(done.stdout)["documents"]

    wrong = subprocess.run([*newssearch_command(), "shard", "serve", str(folder), "--port", "1"],
                           capture_output=True, text=True, timeout=60, cwd=REPO)
    assert wrong.returncode == 2 and "cluster folder" in wrong.stderr
    mixed = subprocess.run([*newssearch_command(), "search", QUERY, "--backend", "whoosh", "--remote",
                            endpoints[0]], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert mixed.returncode == 2
