"""The ``newssearch`` command: index a corpus, search it, serve it."""

from __future__ import annotations

import functools
import html
import json
import os
import re
import sys
from pathlib import Path

import click

from search import Engine, IndexBusy, IndexMissing, InvalidParameter, Settings, index_paths

DEFAULT_INDEX = "index"
EXIT_FAILED = 1
EXIT_BUSY = 3

index_option = click.option(
    "--index", "index_dir", default=DEFAULT_INDEX, show_default=True,
    type=click.Path(file_okay=False, path_type=Path), help="Index folder.")


# -- backends --------------------------------------------------------------

# The backend options of the running command (one command per process).
_BACKEND: dict = {"backend": None, "remote": None, "shards": None}
BACKENDS = ("whoosh", "xapian")


def backend_options(function=None, *, shards: bool = False):
    """``--backend`` and ``--remote`` (with ``shards``: ``--shards`` instead of ``--remote``)."""
    if function is None:
        return functools.partial(backend_options, shards=shards)

    @functools.wraps(function)
    def wrapper(*args, backend=None, remote=None, shard_count=None, **kwargs):
        _BACKEND.update(backend=backend, remote=remote, shards=shard_count)
        if remote and backend == "whoosh":
            raise click.UsageError("--remote needs the xapian backend")
        return function(*args, **kwargs)

    if shards:
        wrapper = click.option(
            "--shards", "shard_count", default=None, type=click.IntRange(1, 256),
            help="Xapian: shards of a new cluster folder (default 1; fixed once built).")(wrapper)
    else:
        wrapper = click.option(
            "--remote", default=None, metavar="HOST:PORT,...",
            help="Xapian: search shards served by 'newssearch shard serve', one HOST:PORT per "
                 "shard (HOST:PORT|HOST:PORT for a shard and its replicas).")(wrapper)
    return click.option(
        "--backend", default=None, type=click.Choice(BACKENDS),
        help="whoosh: one index folder (default); xapian: a sharded cluster (default for a "
             "cluster folder or with --remote).")(wrapper)


def _settings(index_dir: Path) -> Settings:
    backend = _BACKEND["backend"] or ("xapian" if _BACKEND["remote"] else None)
    return Settings(index_dir=index_dir, backend=backend, remote=_BACKEND["remote"])


def _index(paths, index_dir: Path, rebuild: bool, progress):
    """Index into a Whoosh folder or a Xapian cluster, as the options and the folder say."""
    from search.backends.layout import read_cluster

    backend = _BACKEND["backend"]
    if backend is None:
        backend = "xapian" if _BACKEND["shards"] or read_cluster(index_dir) else "whoosh"
    if backend == "whoosh":
        if _BACKEND["shards"]:
            raise click.UsageError("--shards needs --backend xapian")
        return index_paths(paths, Settings(index_dir=index_dir), rebuild=rebuild,
                           progress=progress)
    from search.backends.xapian_index import ClusterLayoutError, index_cluster

    try:
        return index_cluster(paths, Settings(index_dir=index_dir, backend="xapian"),
                             shards=_BACKEND["shards"], rebuild=rebuild, progress=progress)
    except ClusterLayoutError as error:
        raise click.UsageError(str(error))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newssearch")
def main():
    """Full-text search for news archives, German first."""


# -- index -----------------------------------------------------------------


def _progress_bar(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=0, unit="B", unit_scale=True, desc="indexing", file=sys.stderr)

    def update(done, total):
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


@main.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
@click.option("--rebuild", is_flag=True, help="Build a fresh index and switch to it atomically.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, only the summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@backend_options(shards=True)
def index_command(paths, index_dir, rebuild, quiet, as_json):
    """Index the articles in PATHS (files or folders, searched recursively).

    Incremental by default: unchanged files are passed over, changed articles
    are replaced and articles whose files disappeared from PATHS are removed.
    Exit code 0 when something was indexed or nothing needed to change, 1 when
    every input failed, 2 for usage errors, 3 when another indexer is running.
    """
    bar, update = _progress_bar(quiet or as_json)
    try:
        report = _index(paths, index_dir, rebuild, update)
    except IndexBusy as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_BUSY)
    finally:
        if bar is not None:
            bar.close()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        _print_report(report)
    if report.failed:
        sys.exit(EXIT_FAILED)


def _print_report(report) -> None:
    click.echo(f"added {report.added}, updated {report.updated}, removed {report.removed}, "
               f"unchanged {report.unchanged}, skipped {len(report.problems)}")
    for problem in report.problems:
        click.echo(f"  skipped {problem}")
    if report.changed == 0 and not report.failed:
        click.echo("nothing changed")
    click.echo(f"{report.documents} documents in the index; "
               f"{report.docs_per_second:.0f} docs/s, {report.seconds:.1f} s")


# -- search ----------------------------------------------------------------


def _open_engine(index_dir: Path) -> Engine:
    return Engine(_settings(index_dir))


def _terminal_snippet(snippet_html: str, color: bool) -> str:
    def marked(match):
        word = match.group(1)
        return click.style(word, fg="yellow", bold=True) if color else f"[{word}]"
    return html.unescape(re.sub(r"<mark>(.*?)</mark>", marked, snippet_html))


@main.command("search")
@click.argument("query")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print exactly the JSON of /api/search.")
@click.option("--limit", "-n", default=10, show_default=True, type=int, help="Hits per page.")
@click.option("--page", default=1, show_default=True, type=int)
@click.option("--sort", default="relevance", show_default=True,
              type=click.Choice(["relevance", "date"]))
@click.option("--lang", default=None, help="Only articles in this language (de, en, …).")
@click.option("--source", default=None, help="Only articles of this source.")
@click.option("--category", default=None, help="Only articles of this category.")
@click.option("--from", "date_from", default=None, help="From this date (YYYY, YYYY-MM, YYYY-MM-DD).")
@click.option("--to", "date_to", default=None, help="Up to this date, inclusive.")
@backend_options
def search_command(query, index_dir, as_json, limit, page, sort, lang, source, category,
                   date_from, date_to):
    """Search the index for QUERY (see the README for the query language)."""
    try:
        with _open_engine(index_dir) as engine:
            result = engine.search(query, page=page, per_page=limit, sort=sort, lang=lang,
                                   source=source, category=category, date_from=date_from,
                                   date_to=date_to)
    except InvalidParameter as error:
        raise click.UsageError(error.message)
    except IndexMissing as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    color = sys.stdout.isatty()
    data = result.to_dict()
    click.echo(f"{data['total']} Treffer ({data['took_ms'] / 1000:.3f} s)"
               + (" — nicht alle Wörter gefunden" if data["mode"] == "any" else ""))
    if data["reason"]:
        click.echo(f"({data['reason']})")
    if data["suggestion"]:
        s = data["suggestion"]
        click.echo(f"Meinten Sie: {s['query']} ({s['total']} Treffer)")
    first = (data["page"] - 1) * data["per_page"]
    for number, hit in enumerate(data["hits"], start=first + 1):
        meta = " · ".join(v for v in (hit["date"], hit["source"], hit["lang"]) if v)
        click.echo("")
        click.echo(f"{number}. {click.style(hit['title'], bold=True) if color else hit['title']}")
        click.echo(f"   {hit['id']}  {meta}")
        click.echo("   " + _terminal_snippet(hit["snippet"], color))


# -- stats -----------------------------------------------------------------


@main.command("stats")
@index_option
@click.option("--json", "as_json", is_flag=True)
@backend_options
def stats_command(index_dir, as_json):
    """What the index holds."""
    try:
        with _open_engine(index_dir) as engine:
            stats = engine.stats()
    except IndexMissing as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False))
        return
    click.echo(f"documents:   {stats['documents']}")
    click.echo("languages:   " + ", ".join(f"{k} {v}" for k, v in stats["languages"].items()))
    click.echo("sources:     " + (", ".join(f"{k} {v}" for k, v in stats["sources"].items()) or "-"))
    click.echo(f"dates:       {stats['first_date'] or '-'} … {stats['last_date'] or '-'}")
    if stats["size_bytes"] is not None:
        click.echo(f"size:        {stats['size_bytes'] / 1e6:.1f} MB")
    if stats.get("shards"):
        click.echo(f"shards:      {stats['shards']['answered']} of {stats['shards']['total']} "
                   f"answered")
    click.echo(f"indexed at:  {stats['indexed_at']}")


# -- shard -----------------------------------------------------------------


@main.group("shard")
def shard_group():
    """Run the processes of a Xapian cluster (Debian's xapian-tools).

    None of them authenticates or encrypts: bind them to a private interface
    and let only the query node and the replicas reach their ports.
    """


def _exec(command: list[str]) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)


def _tool_command(build):
    from search.backends.xapian_serve import ToolMissing

    try:
        return build()
    except ToolMissing as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_FAILED)


@shard_group.command("serve")
@click.argument("shard_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--port", required=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--interface", default="127.0.0.1", show_default=True,
              help="Address to listen on (a private one: there is no authentication).")
@click.option("--timeout", "timeout_ms", default=None, type=click.IntRange(0),
              help="Close connections idle or busy for this many ms (xapian-tcpsrv's default "
                   "if not given).")
def shard_serve_command(shard_dir, port, interface, timeout_ms):
    """Serve one shard (or replica) folder to query nodes with xapian-tcpsrv.

    SHARD_DIR is one shard of a cluster folder (e.g. index/shard-00) or a
    replica made by 'newssearch shard replicate'. New commits are seen by
    the query node without a restart.
    """
    from search.backends import xapian_serve

    try:
        xapian_serve.check_shard(shard_dir)
    except ValueError as error:
        raise click.UsageError(str(error))
    command = _tool_command(lambda: xapian_serve.tcpsrv_command(
        shard_dir, port, interface, timeout_ms=timeout_ms))
    click.echo(f"serving {shard_dir} on {interface}:{port}")
    _exec(command)


@shard_group.command("replication-server")
@click.argument("cluster_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--port", required=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--interface", default="127.0.0.1", show_default=True,
              help="Address to listen on (a private one: there is no authentication).")
def shard_replication_server_command(cluster_dir, port, interface):
    """Offer the shards of CLUSTER_DIR to replicas (xapian-replicate-server).

    Run it on the indexing machine; replicas ask for a shard by its folder
    name (shard-00, shard-01, …) and receive only the changes after the
    first copy.
    """
    from search.backends import xapian_serve
    from search.backends.layout import read_cluster

    if read_cluster(cluster_dir) is None:
        raise click.UsageError(f"{cluster_dir} is not a cluster folder "
                               f"(made by 'newssearch index --backend xapian')")
    command = _tool_command(lambda: xapian_serve.replication_server_command(
        cluster_dir, port, interface))
    click.echo(f"offering the shards of {cluster_dir} for replication on {interface}:{port}")
    _exec(command)


@shard_group.command("replicate")
@click.argument("replica_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--from", "source", required=True, metavar="HOST:PORT",
              help="The replication server ('newssearch shard replication-server').")
@click.option("--shard", "shard_name", required=True, metavar="NAME",
              help="The shard to copy: its folder name in the cluster, e.g. shard-00.")
@click.option("--interval", default=10, show_default=True, type=click.IntRange(1),
              help="Seconds between two checks for changes.")
@click.option("--once", is_flag=True, help="Copy once and exit.")
def shard_replicate_command(replica_dir, source, shard_name, interval, once):
    """Keep REPLICA_DIR a current copy of one shard (xapian-replicate).

    Serve the replica with 'newssearch shard serve REPLICA_DIR' and list it
    after its primary in --remote (HOST:PORT|HOST:PORT): the query node uses
    it whenever the primary does not answer.
    """
    from search.backends import xapian_serve
    from search.backends.xapian_cluster import parse_endpoint

    try:
        endpoint = parse_endpoint(source)
    except ValueError as error:
        raise click.UsageError(str(error))
    command = _tool_command(lambda: xapian_serve.replicate_command(
        replica_dir, endpoint.host, endpoint.port, shard_name, interval=interval, once=once))
    replica_dir.parent.mkdir(parents=True, exist_ok=True)
    _exec(command)


# -- serve -----------------------------------------------------------------


def _has_index(index_dir: Path) -> bool:
    try:
        with _open_engine(index_dir) as engine:
            engine.search("", per_page=1, suggest=False)
    except IndexMissing:
        return False
    return True


def _index_first(corpus_paths, index_dir: Path) -> None:
    """Index ``corpus_paths`` into ``index_dir`` unless it already holds an index."""
    if _has_index(index_dir):
        click.echo(f"{index_dir} holds an index already; not indexing {', '.join(map(str, corpus_paths))} "
                   f"(run 'newssearch index' to update it)", err=True)
        return
    click.echo(f"no index in {index_dir} yet: indexing {', '.join(map(str, corpus_paths))} …", err=True)
    try:
        report = _index(list(corpus_paths), index_dir, False, None)
    except IndexBusy as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_BUSY)
    click.echo(f"added {report.added}, skipped {len(report.problems)}; "
               f"{report.documents} documents in the index, {report.seconds:.1f} s", err=True)
    if report.failed:
        click.echo("Error: nothing could be indexed", err=True)
        sys.exit(EXIT_FAILED)


@main.command("serve")
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 512),
              help="Worker threads of each server process.")
@click.option("--workers", default=0, show_default=True, type=click.IntRange(0, 64),
              help="Server processes sharing the port (0: one per CPU core). Searching is "
                   "CPU-bound, and threads of one process share one core at a time.")
@click.option("--corpus", "corpus_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Index these files or folders first if the index folder has no index yet "
                   "(repeatable).")
@click.option("--debug", is_flag=True,
              help="Run Flask's development server with reloader and debugger instead.")
@backend_options
def serve_command(index_dir, host, port, threads, workers, corpus_paths, debug):
    """Serve the search page and the JSON API for the index.

    A reindex while the server runs shows with the next request; no restart
    is needed.
    """
    import logging

    from web import create_app

    if corpus_paths:
        _index_first(corpus_paths, index_dir)
    elif not _has_index(index_dir):
        click.echo(f"warning: no index in {index_dir} yet; the pages say so until one is built "
                   f"with 'newssearch index PATH --index {index_dir}'", err=True)
    settings = _settings(index_dir)
    if debug:
        create_app({"SETTINGS": settings}).run(host=host, port=port, debug=True, use_reloader=True)
        return

    from waitress import create_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.WARNING)
    workers = workers or os.cpu_count() or 1
    if workers == 1 or not hasattr(os, "fork"):
        _warm(settings)  # what every search reads, read before the first request
        server = create_server(create_app({"SETTINGS": settings}), host=host, port=port,
                               threads=threads, ident="newssearch")
        _echo_listening(server)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
        return
    _serve_forked(settings, host, port, threads, workers)


def _warm(settings) -> None:
    """Read ahead what every search reads; a failure here is reported by the requests."""
    try:
        with Engine(settings) as engine:
            engine.warm()
    except Exception as error:  # noqa: BLE001 - serving starts all the same
        click.echo(f"warning: the index could not be read ahead: {error}", err=True)


def _echo_listening(server) -> None:
    listening = getattr(server, "effective_listen", None) or [(server.effective_host,
                                                               server.effective_port)]
    for where, bound_port in listening:
        shown = f"[{where}]" if ":" in str(where) else where
        click.echo(f"Serving on http://{shown}:{bound_port}/")
    sys.stdout.flush()


def _serve_forked(settings, host: str, port: int, threads: int, workers: int) -> None:
    """``workers`` processes, each a waitress server with its own engine, accepting
    connections on one listening socket made here."""
    import signal
    import socket
    import time

    # What every search reads is read once here, before the workers are forked: they
    # share it (copy-on-write) instead of each reading it on its first requests.
    _warm(settings)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        click.echo(f"Error: cannot listen on {host}:{port}: {error}", err=True)
        sys.exit(EXIT_FAILED)
    listener.listen(1024)
    where, bound_port = listener.getsockname()[:2]
    shown = f"[{where}]" if ":" in str(where) else where
    click.echo(f"Serving on http://{shown}:{bound_port}/ ({workers} processes)")
    sys.stdout.flush()

    def start_worker() -> int:
        pid = os.fork()
        if pid:
            return pid
        code = 0
        try:
            _end_with_parent()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            from waitress import create_server

            from web import create_app

            server = create_server(create_app({"SETTINGS": settings}), sockets=[listener],
                                   threads=threads, ident="newssearch")
            server.run()
        except BaseException:  # noqa: BLE001 - a worker ends here whatever happens
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)

    children = {start_worker() for _ in range(workers)}
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while children:
        try:
            pid, _ = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        if not stopping:  # a worker died: start another after a pause
            time.sleep(1)
            if not stopping:
                children.add(start_worker())
    listener.close()


def _end_with_parent() -> None:
    """In a worker: end with SIGTERM when the serving process ends (Linux)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


# -- eval ------------------------------------------------------------------


@main.command("eval")
@index_option
@click.option("--queries", "queries_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Queries as JSON Lines: query_id (or qid, id) and text (or query).")
@click.option("--qrels", "qrels_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Judgments in TREC qrels format: qid 0 docid relevance.")
@click.option("--k", "k", default=10, show_default=True, type=click.IntRange(1, 100),
              help="Cutoff of MRR, recall and nDCG.")
@click.option("--depth", default=100, show_default=True, type=click.IntRange(1, 100),
              help="Hits fetched per query (the deepest recall cutoff).")
@click.option("--run-out", "run_out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the ranking as a TREC run file.")
@click.option("--tag", default="newssearch", show_default=True, help="Run tag in the run file.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def eval_command(index_dir, queries_path, qrels_path, k, depth, run_out, tag, as_json):
    """Measure ranking quality on judged queries: MRR, recall, nDCG, zero hits, latency.

    Every query goes through the same search as the web page.
    """
    from search.evaluation import EvaluationInputError, evaluate, format_report, read_qrels, \
        read_queries, write_run

    try:
        queries = read_queries(queries_path)
        qrels = read_qrels(qrels_path)
    except EvaluationInputError as error:
        raise click.UsageError(str(error))
    if not queries:
        raise click.UsageError(f"{queries_path}: no queries")
    try:
        with _open_engine(index_dir) as engine:
            report, rankings = evaluate(engine, queries, qrels, k=k, depth=depth)
    except IndexMissing as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_FAILED)
    if run_out is not None:
        write_run(rankings, run_out, tag=tag)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    click.echo(format_report(report))
    if report.judged < report.queries:
        click.echo(f"({report.queries - report.judged} queries have no relevant document in the qrels "
                   f"and count for latency and zero hits only)")
    if run_out is not None:
        click.echo(f"run file: {run_out}")


if __name__ == "__main__":
    main()
