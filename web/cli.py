"""The ``newssearch`` command: index an archive, search it, serve it.

A thin layer over the names :mod:`search` exports. Every command's options
that say *what* to work on (``--index``, ``--backend``, ``--remote``,
``--shards`` and any ``--setting NAME VALUE``) are gathered on click's
context object into one :class:`search.Settings`, which the command passes
down unchanged; the library decides the rest (which backend indexes a
folder, for one). Serving lives in :mod:`web.server`.

Exit codes: 0 success (or nothing needed to change), 1 failure (every input
failed, no index), 2 usage error, 3 the index is busy.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import sys
from pathlib import Path

import click

from search import (EXPORT_FORMATS, KWIC_SORTS, TREND_INTERVALS, Engine, EvaluationInputError,
                    IndexBusy, IndexMissing, InvalidParameter, InvalidSetting, Settings, evaluate,
                    format_report, index_paths, read_qrels, read_queries, run_in_group,
                    shard_tools, trends_csv, write_run)

EXIT_FAILED = 1
EXIT_BUSY = 3


# -- settings on the context object ------------------------------------------------


class Options:
    """What the options of the running command ask of the settings."""

    def __init__(self):
        self.changes: dict = {}

    @property
    def settings(self) -> Settings:
        return Settings(**self.changes)


_SETTINGS = {item.name: item for item in dataclasses.fields(Settings)}


def _setting_value(name: str, text: str):
    """``text`` as the type of the setting ``name`` (by its default)."""
    if name not in _SETTINGS or name == "index_dir":
        raise click.BadParameter(f"no setting {name!r} (see 'newssearch settings')")
    default = next(row["default"] for row in Settings.describe() if row["name"] == name)
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, tuple):
            return tuple(v.strip() for v in text.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"{name} takes a {type(default).__name__}, not {text!r}")
    return text or None


def _store(name: str):
    def callback(ctx, param, value):
        options = ctx.ensure_object(Options)
        if name == "settings":
            for key, text in value:
                options.changes[key] = _setting_value(key, text)
        elif value is not None:
            options.changes[name] = value
        return value
    return callback


def settings_options(*, shards: bool = False, remote: bool = True):
    """The options that make the command's :class:`Settings` (on ``ctx.obj``)."""
    def decorate(function):
        decorators = [
            click.option("--index", "index_dir", default="index", show_default=True,
                         type=click.Path(file_okay=False, path_type=Path), expose_value=False,
                         callback=_store("index_dir"), help="Index folder (or cluster folder)."),
            click.option("--backend", default=None, type=click.Choice(["whoosh", "xapian"]),
                         expose_value=False, callback=_store("backend"),
                         help="whoosh: one index folder (default); xapian: a sharded cluster "
                              "(default for a cluster folder, with --remote or --shards)."),
            click.option("--setting", "settings", type=(str, str), multiple=True,
                         expose_value=False, callback=_store("settings"), metavar="NAME VALUE",
                         help="Set any setting (repeatable; 'newssearch settings' lists them)."),
        ]
        if shards:
            decorators.append(click.option(
                "--shards", default=None, type=click.IntRange(1, 256), expose_value=False,
                callback=_store("shards"),
                help="Xapian: shards of a new cluster folder (default 1; fixed once built)."))
        if remote:
            decorators.append(click.option(
                "--remote", default=None, metavar="HOST:PORT,...", expose_value=False,
                callback=_store("remote"),
                help="Xapian: search shards served by 'newssearch shard serve', one HOST:PORT "
                     "per shard (HOST:PORT|HOST:PORT for a shard and its replicas)."))
        for decorator in reversed(decorators):
            function = decorator(function)
        return click.pass_obj(function)
    return decorate


def fail(message: str, code: int = EXIT_FAILED):
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newssearch")
def main():
    """Full-text search for news archives, German first."""


# -- index -----------------------------------------------------------------------


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


def run_index(paths, settings: Settings, *, rebuild: bool, progress=None):
    """Index ``paths``; usage errors and a busy index end the command."""
    try:
        return index_paths(list(paths), settings, rebuild=rebuild, progress=progress)
    except InvalidSetting as error:
        raise click.UsageError(str(error))
    except IndexBusy as error:
        fail(str(error), EXIT_BUSY)


@main.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Build a fresh index and switch to it atomically.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, only the summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@settings_options(shards=True, remote=False)
def index_command(options, paths, rebuild, quiet, as_json):
    """Index the articles in PATHS (files or folders, searched recursively).

    Incremental by default: unchanged files are passed over, changed articles
    are replaced and articles whose files disappeared from PATHS are removed.
    Exit code 0 when something was indexed or nothing needed to change, 1 when
    every input failed, 2 for usage errors, 3 when another indexer is running.
    """
    bar, update = _progress_bar(quiet or as_json)
    try:
        report = run_index(paths, options.settings, rebuild=rebuild, progress=update)
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
    if report.passed:
        click.echo("  not articles: " + ", ".join(
            f"{count} {kind}" for kind, count in sorted(report.passed.items(),
                                                        key=lambda item: (-item[1], item[0]))))
    if report.changed == 0 and not report.failed:
        click.echo("nothing changed")
    pages = (f"{report.pages} web pages, {report.pages_per_second:.1f} pages/s, "
             if report.pages else "")
    click.echo(f"{report.documents} documents in the index; "
               f"{report.docs_per_second:.0f} docs/s, {pages}{report.seconds:.1f} s")


# -- search ----------------------------------------------------------------------


def _terminal_snippet(snippet_html: str, color: bool) -> str:
    def marked(match):
        word = match.group(1)
        return click.style(word, fg="yellow", bold=True) if color else f"[{word}]"
    return html.unescape(re.sub(r"<mark>(.*?)</mark>", marked, snippet_html))


@main.command("search")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print exactly the JSON of /api/search.")
@click.option("--limit", "-n", default=10, show_default=True, type=int, help="Hits per page.")
@click.option("--page", default=1, show_default=True, type=int)
@click.option("--sort", default="relevance", show_default=True,
              type=click.Choice(["relevance", "date"]))
@click.option("--lang", multiple=True,
              help="Only articles in this language (de, en, …); repeat for any of several.")
@click.option("--source", multiple=True,
              help="Only articles of this source; repeat for any of several.")
@click.option("--category", multiple=True,
              help="Only articles of this category; repeat for any of several.")
@click.option("--from", "date_from", default=None, help="From this date (YYYY, YYYY-MM, YYYY-MM-DD).")
@click.option("--to", "date_to", default=None, help="Up to this date, inclusive.")
@click.option("--all", "every", is_flag=True,
              help="Write every hit (up to the setting export_max_rows) in --format.")
@click.option("--format", "fmt", default=None, type=click.Choice(EXPORT_FORMATS),
              help="With --all: csv (default) or jsonl, as GET /api/export writes them.")
@click.option("--no-collapse", "no_collapse", is_flag=True,
              help="Show every article; by default the best-ranked article of a near-duplicate "
                   "cluster stands for the others.")
@settings_options()
def search_command(options, query, as_json, limit, page, sort, lang, source, category,
                   date_from, date_to, every, fmt, no_collapse):
    """Search the index for QUERY (see the README for the query language)."""
    if every or fmt:
        if not every:
            raise click.UsageError("--format goes with --all")
        if as_json:
            raise click.UsageError("--all writes CSV or JSON Lines (--format), not --json")
        _export(options.settings, query, fmt or "csv", sort=sort, lang=lang, source=source,
                category=category, date_from=date_from, date_to=date_to)
        return
    try:
        with Engine(options.settings) as engine:
            result = engine.search(query, page=page, per_page=limit, sort=sort, lang=lang,
                                   source=source, category=category, date_from=date_from,
                                   date_to=date_to, collapse=False if no_collapse else None)
    except InvalidParameter as error:
        raise click.UsageError(error.message)
    except InvalidSetting as error:
        raise click.UsageError(str(error))
    except IndexMissing as error:
        fail(str(error))
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    color = sys.stdout.isatty()
    data = result.to_dict()
    stories = f" in {data['stories']} Meldungen" if data["folded"] else ""
    click.echo(f"{data['total']} Treffer{stories} ({data['took_ms'] / 1000:.3f} s)"
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
        if hit["folded"]:
            shown = ", ".join(f"{d['source'] or '-'} ({d['id']})" for d in hit["duplicates"][:3])
            more = hit["folded"] - min(3, len(hit["duplicates"]))
            click.echo(f"   Auch bei: {shown}" + (f" (+{more})" if more > 0 else ""))


def _engine_call(settings: Settings, call):
    """``call(engine)`` with the command's usual answers to bad parameters and a missing index."""
    try:
        with Engine(settings) as engine:
            return call(engine)
    except InvalidParameter as error:
        raise click.UsageError(error.message)
    except InvalidSetting as error:
        raise click.UsageError(str(error))
    except IndexMissing as error:
        fail(str(error))


def _export(settings: Settings, query: str, fmt: str, **params) -> None:
    def write(engine):
        export = engine.export(query, **params)
        try:
            if export.message:
                click.echo(export.message, err=True)
            out = click.get_text_stream("stdout")
            for line in export.lines(fmt):
                out.write(line)
            out.flush()
        finally:
            export.close()
    _engine_call(settings, write)


def filter_options(function):
    """The search filters, as ``newssearch search`` takes them."""
    for decorator in reversed((
        click.option("--lang", multiple=True,
                     help="Only articles in this language (de, en, …); repeat for any of "
                          "several."),
        click.option("--source", multiple=True,
                     help="Only articles of this source; repeat for any of several."),
        click.option("--category", multiple=True,
                     help="Only articles of this category; repeat for any of several."),
        click.option("--from", "date_from", default=None,
                     help="From this date (YYYY, YYYY-MM, YYYY-MM-DD)."),
        click.option("--to", "date_to", default=None, help="Up to this date, inclusive."),
    )):
        function = decorator(function)
    return function


# -- trends ----------------------------------------------------------------------


@main.command("trends")
@click.argument("queries", nargs=-1)
@click.option("--interval", default="month", show_default=True,
              type=click.Choice(TREND_INTERVALS))
@click.option("--format", "fmt", default="table", show_default=True,
              type=click.Choice(["table", "csv", "json"]),
              help="table: one row per interval; csv and json: what GET /api/trends gives.")
@filter_options
@settings_options()
def trends_command(options, queries, interval, fmt, **filters):
    """How often each of QUERIES matches per interval, against all articles then.

    Up to six queries, each in the full query language; the rate is per 10,000
    articles of the interval (all filters apply to both).
    """
    result = _engine_call(options.settings,
                          lambda engine: engine.trends(list(queries), interval=interval,
                                                       **filters))
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    if fmt == "csv":
        click.echo(trends_csv(result), nl=False)
        return
    header = ["interval", "articles"]
    for series in result["series"]:
        header += [series["query"], "per 10,000"]
    rows = [header]
    for position, item in enumerate(result["intervals"]):
        row = [item["key"], str(item["total"])]
        for series in result["series"]:
            point = series["points"][position]
            row += [str(point["count"]), "-" if point["rate"] is None else f"{point['rate']:.2f}"]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for number, row in enumerate(rows):
        click.echo("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                             for i, (cell, w) in enumerate(zip(row, widths))))
        if number == 0:
            click.echo("  ".join("-" * w for w in widths))
    for series in result["series"]:
        if series["reason"]:
            click.echo(f"{series['query']}: {series['reason']}", err=True)
    if result["imprecise"]:
        click.echo(f"{result['imprecise']} articles dated to a month only are left out of "
                   f"{interval}s", err=True)


# -- keyword in context ------------------------------------------------------------


@main.command("kwic")
@click.argument("query")
@click.option("--width", default=None, type=int, help="Characters of context on each side "
                                                      "(default: the setting kwic_width).")
@click.option("--sort", default="date", show_default=True, type=click.Choice(KWIC_SORTS),
              help="By date (newest first) or by the word left or right of the match.")
@click.option("--limit", "-n", default=None, type=int, help="Lines per page.")
@click.option("--page", default=1, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print exactly the JSON of /api/kwic.")
@filter_options
@settings_options()
def kwic_command(options, query, width, sort, limit, page, as_json, **filters):
    """Every occurrence of QUERY in its context, aligned on the match."""
    result = _engine_call(options.settings, lambda engine: engine.kwic(
        query, page=page, per_page=limit, width=width, sort=sort, **filters))
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    color = sys.stdout.isatty()
    click.echo(f"{result['total']} occurrences in {result['articles_read']} articles"
               + (f" ({result['articles']} matching)"
                  if result["articles"] > result["articles_read"] else ""))
    if result["reason"]:
        click.echo(f"({result['reason']})")
    if result["message"]:
        click.echo(result["message"], err=True)
    width = result["width"]
    for item in result["lines"]:
        match = click.style(item["match"], fg="yellow", bold=True) if color else f"[{item['match']}]"
        click.echo(f"{item['left'].rjust(width)} {match} {item['right'].ljust(width)}  "
                   f"{(item['date'] or '')[:10]} {item['id']}")


# -- stats -----------------------------------------------------------------------


@main.command("stats")
@click.option("--json", "as_json", is_flag=True)
@settings_options()
def stats_command(options, as_json):
    """What the index holds."""
    try:
        with Engine(options.settings) as engine:
            stats = engine.stats()
    except InvalidSetting as error:
        raise click.UsageError(str(error))
    except IndexMissing as error:
        fail(str(error))
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False))
        return
    click.echo(f"documents:   {stats['documents']}")
    click.echo("languages:   " + ", ".join(f"{k} {v}" for k, v in stats["languages"].items()))
    click.echo("sources:     " + (", ".join(f"{k} {v}" for k, v in stats["sources"].items()) or "-"))
    click.echo(f"dates:       {stats['first_date'] or '-'} … {stats['last_date'] or '-'}")
    if stats["size_bytes"] is not None:
        click.echo(f"size:        {stats['size_bytes'] / 1e6:.1f} MB")
    duplicates = stats["duplicates"]
    click.echo(f"duplicates:  {duplicates['clusters']} clusters of near-duplicates, "
               f"{duplicates['articles']} articles in them")
    if stats.get("shards"):
        click.echo(f"shards:      {stats['shards']['answered']} of {stats['shards']['total']} "
                   f"answered")
    click.echo(f"indexed at:  {stats['indexed_at']}")


# -- settings --------------------------------------------------------------------


@main.command("settings")
@click.option("--json", "as_json", is_flag=True)
def settings_command(as_json):
    """List every setting with its default and what it does (set one with --setting)."""
    rows = Settings.describe()
    if as_json:
        click.echo(json.dumps([{**row, "default": row["default"] if not isinstance(
            row["default"], Path) else str(row["default"])} for row in rows], ensure_ascii=False))
        return
    group = None
    for row in rows:
        if row["group"] != group:
            group = row["group"]
            click.echo(f"\n[{group}]")
        click.echo(f"  {row['name']} = {row['default']!r}\n      {row['help']}")


# -- shard -----------------------------------------------------------------------


@main.group("shard")
def shard_group():
    """Run the processes of a Xapian cluster (Debian's xapian-tools).

    None of them authenticates or encrypts: bind them to a private interface
    and let only the query node and the replicas reach their ports.
    """


def _exec(build, announcement: str) -> None:
    """Run a Xapian tool until it ends or this command is stopped, then exit with its code.

    The tool runs in a process group of its own (:func:`search.run_in_group`), so that
    stopping this command, even with ``kill -9``, also ends the processes the tool
    forked for its connections: a shard taken down stops answering at once.
    """
    try:
        command = build()
    except shard_tools.ToolMissing as error:
        fail(str(error))
    click.echo(announcement)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(run_in_group(command))


_interface_option = click.option(
    "--interface", default="127.0.0.1", show_default=True,
    help="Address to listen on (a private one: there is no authentication).")


@shard_group.command("serve")
@click.argument("shard_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--port", required=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@_interface_option
@click.option("--timeout", "timeout_ms", default=None, type=click.IntRange(0),
              help="Close connections idle or busy for this many ms (xapian-tcpsrv's default "
                   "if not given).")
def shard_serve_command(shard_dir, port, interface, timeout_ms):
    """Serve one shard (or replica) folder to query nodes with xapian-tcpsrv.

    SHARD_DIR is one shard of a cluster folder (e.g. index/shard-00) or a
    replica made by 'newssearch shard replicate'. New commits are seen by
    the query node without a restart.
    """
    try:
        shard_tools.check_shard(shard_dir)
    except ValueError as error:
        raise click.UsageError(str(error))
    _exec(lambda: shard_tools.tcpsrv_command(shard_dir, port, interface, timeout_ms=timeout_ms),
          f"serving {shard_dir} on {interface}:{port}")


@shard_group.command("replication-server")
@click.argument("cluster_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--port", required=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@_interface_option
def shard_replication_server_command(cluster_dir, port, interface):
    """Offer the shards of CLUSTER_DIR to replicas (xapian-replicate-server).

    Run it on the indexing machine; replicas ask for a shard by its folder
    name (shard-00, shard-01, …) and receive only the changes after the
    first copy.
    """
    try:
        shard_tools.check_cluster(cluster_dir)
    except ValueError as error:
        raise click.UsageError(str(error))
    _exec(lambda: shard_tools.replication_server_command(cluster_dir, port, interface),
          f"offering the shards of {cluster_dir} for replication on {interface}:{port}")


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
    try:
        endpoint = shard_tools.parse_endpoint(source)
    except ValueError as error:
        raise click.UsageError(str(error))
    replica_dir.parent.mkdir(parents=True, exist_ok=True)
    _exec(lambda: shard_tools.replicate_command(replica_dir, endpoint.host, endpoint.port,
                                                shard_name, interval=interval, once=once),
          f"replicating {shard_name} from {source} into {replica_dir}")


# -- serve -----------------------------------------------------------------------


def _has_index(settings: Settings) -> bool:
    try:
        with Engine(settings) as engine:
            engine.search("", per_page=1, suggest=False)
    except IndexMissing:
        return False
    return True


def _index_first(corpus_paths, settings: Settings) -> None:
    """Index ``corpus_paths`` unless the index folder already holds an index."""
    named = ", ".join(map(str, corpus_paths))
    if _has_index(settings):
        click.echo(f"{settings.index_dir} holds an index already; not indexing {named} "
                   f"(run 'newssearch index' to update it)", err=True)
        return
    click.echo(f"no index in {settings.index_dir} yet: indexing {named} …", err=True)
    report = run_index(corpus_paths, settings.with_changes(remote=None), rebuild=False)
    click.echo(f"added {report.added}, skipped {len(report.problems)}; "
               f"{report.documents} documents in the index, {report.seconds:.1f} s", err=True)
    if report.failed:
        fail("nothing could be indexed")


@main.command("serve")
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
@settings_options()
def serve_command(options, host, port, threads, workers, corpus_paths, debug):
    """Serve the search page and the JSON API for the index.

    A reindex while the server runs shows with the next request; no restart
    is needed.
    """
    import logging

    from web import create_app
    from web.server import ServeError, serve

    settings = options.settings
    try:
        if corpus_paths:
            _index_first(corpus_paths, settings)
        elif not _has_index(settings):
            click.echo(f"warning: no index in {settings.index_dir} yet; the pages say so until "
                       f"one is built with 'newssearch index PATH --index {settings.index_dir}'",
                       err=True)
    except InvalidSetting as error:
        raise click.UsageError(str(error))
    if debug:
        create_app({"SETTINGS": settings}).run(host=host, port=port, debug=True, use_reloader=True)
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.WARNING)

    def announce(url: str, processes: int) -> None:
        click.echo(f"Serving on {url}" + (f" ({processes} processes)" if processes > 1 else ""))
        sys.stdout.flush()

    try:
        serve(settings, host, port, threads=threads, workers=workers, announce=announce,
              warn=lambda text: click.echo(text, err=True))
    except ServeError as error:
        fail(str(error))


# -- eval ------------------------------------------------------------------------


@main.command("eval")
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
@click.option("--collapse", is_flag=True,
              help="Rank as the page does, near-duplicates folded (by default every article is "
                   "ranked, so figures stay comparable with runs and tools that do not fold).")
@settings_options()
def eval_command(options, queries_path, qrels_path, k, depth, run_out, tag, as_json, collapse):
    """Measure ranking quality on judged queries: MRR, recall, nDCG, zero hits, latency.

    Every query goes through the same search as the web page (without folding
    near-duplicates unless --collapse is given).
    """
    try:
        queries = read_queries(queries_path)
        qrels = read_qrels(qrels_path)
    except EvaluationInputError as error:
        raise click.UsageError(str(error))
    if not queries:
        raise click.UsageError(f"{queries_path}: no queries")
    try:
        with Engine(options.settings) as engine:
            report, rankings = evaluate(engine, queries, qrels, k=k, depth=depth,
                                        collapse=collapse)
    except IndexMissing as error:
        fail(str(error))
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
