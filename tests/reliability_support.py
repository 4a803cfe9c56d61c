"""Helpers shared by the reliability tests (tests/test_reliability_*.py).

Everything here runs the real product: the ``newssearch`` command as a
subprocess (``python -m web``), the engine in-process, the server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS = REPO / "corpus"
SHARED_CORPORA = REPO.parent / "shared" / "corpora"

# The keys of GET /api/search and Engine.search(...).to_dict(), and of one hit.
RESULT_KEYS = {"query", "total", "page", "per_page", "took_ms", "mode", "reason", "hits",
               "facets", "suggestion", "collapse", "stories", "folded"}
HIT_KEYS = {"id", "title", "date", "lang", "source", "category", "url", "score", "snippet",
            "snippet_text", "folded", "duplicates"}
FACET_NAMES = {"month", "lang", "source", "category"}
_MARK = re.compile(r"</?mark>")


def shared_corpus(name: str) -> Path:
    """A corpus of ../shared/corpora; the test fails with a clear message when it is missing."""
    path = SHARED_CORPORA / name
    if not path.is_dir():
        pytest.fail(f"the shared corpus {path} is missing: the reliability tests read the real "
                    f"corpora from ../shared/corpora beside the checkout", pytrace=False)
    return path


def cli(*args, timeout: float = 120, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run ``newssearch ARGS`` as a subprocess of this Python and wait for it."""
    return subprocess.run([sys.executable, "-m", "web", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          env=_child_env(env), **kwargs)


def cli_popen(*args, env: dict | None = None, **kwargs) -> subprocess.Popen:
    """Start ``newssearch ARGS`` without waiting (the caller kills it)."""
    kwargs.setdefault("stdout", subprocess.DEVNULL)
    kwargs.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen([sys.executable, "-m", "web", *map(str, args)], cwd=REPO,
                            env=_child_env(env), **kwargs)


def _child_env(extra: dict | None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONHASHSEED", "0")
    if extra:
        env.update(extra)
    return env


def kill_process(process: subprocess.Popen | None) -> None:
    """SIGKILL a child we started (and reap it); harmless when it is gone already."""
    if process is None or process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


def open_fds() -> dict[str, str]:
    """This process's open file descriptors and what they point at."""
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            found[name] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the descriptor of the listing itself, closed meanwhile
            pass
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check_result_shape(data: dict, *, query_given: bool = True) -> None:
    """``data`` has the documented shape of a search result (see README, results.py)."""
    assert isinstance(data, dict), data
    assert set(data) == RESULT_KEYS, sorted(data)
    assert isinstance(data["query"], str)
    for name in ("total", "page", "per_page"):
        assert isinstance(data[name], int) and not isinstance(data[name], bool), (name, data[name])
    assert data["total"] >= 0 and data["page"] >= 1 and data["per_page"] >= 1
    assert isinstance(data["took_ms"], (int, float)) and data["took_ms"] >= 0
    assert data["mode"] in ("all", "any"), data["mode"]
    assert data["reason"] is None or isinstance(data["reason"], str)
    assert isinstance(data["hits"], list) and len(data["hits"]) <= data["per_page"]
    first = (data["page"] - 1) * data["per_page"]
    assert len(data["hits"]) <= max(0, data["total"] - first)
    for hit in data["hits"]:
        check_hit_shape(hit)
    assert isinstance(data["facets"], dict) and set(data["facets"]) == FACET_NAMES
    for values in data["facets"].values():
        assert isinstance(values, list)
        for value in values:
            assert set(value) == {"value", "count"}, value
            assert isinstance(value["value"], str) and isinstance(value["count"], int)
            assert value["count"] >= 1
    suggestion = data["suggestion"]
    if suggestion is not None:
        assert set(suggestion) == {"query", "total"}, suggestion
        assert isinstance(suggestion["query"], str) and isinstance(suggestion["total"], int)


def check_hit_shape(hit: dict) -> None:
    assert set(hit) == HIT_KEYS, sorted(hit)
    assert isinstance(hit["id"], str) and hit["id"]
    assert isinstance(hit["title"], str)
    for name in ("date", "lang", "source", "category", "url"):
        assert hit[name] is None or isinstance(hit[name], str), (name, hit[name])
    assert hit["score"] is None or isinstance(hit["score"], (int, float))
    assert isinstance(hit["snippet"], str) and isinstance(hit["snippet_text"], str)
    check_safe_snippet(hit["snippet"])


def check_safe_snippet(snippet_html: str) -> None:
    """A snippet is escaped text with only <mark> elements: no other markup can get through."""
    bare = _MARK.sub("", snippet_html)
    assert "<" not in bare and ">" not in bare, snippet_html[:300]


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


def wait_until(predicate, timeout: float, interval: float = 0.05, message: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout} s")
        time.sleep(interval)


def dumps_strict(data) -> str:
    """Strict JSON (no NaN or Infinity), as an HTTP body would carry it."""
    return json.dumps(data, allow_nan=False)


# ---------------------------------------------------------------------------
# Articles carrying script payloads: they must be indexed as text and shown as
# text. Every payload, if it ever ran, would set window.__pwned or call alert().

PAYLOAD_WORD = "Zwiebelturmkonstrukteur"  # in every payload article, nowhere else

PAYLOADS = [
    '<script>window.__pwned = "script"; alert("script")</script>',
    '<img src=x onerror="window.__pwned = \'img\'; alert(\'img\')">',
    '<svg onload="window.__pwned = \'svg\'">',
    '"><script>window.__pwned = "attr"</script>',
    "'><img src=x onerror=alert(1)>",
    '<iframe src="javascript:window.parent.__pwned = \'iframe\'"></iframe>',
    '<a href="javascript:window.__pwned = \'link\'">klick</a>',
    '</textarea></title></mark><b id="injected">fett</b>',
    '{{7*7}} ${7*7} <%= 7*7 %>',
]


def write_payload_articles(folder: Path) -> dict[str, str]:
    """Hostile but valid articles in every format; returns {article id: format}."""
    folder.mkdir(parents=True, exist_ok=True)
    all_payloads = " ".join(PAYLOADS)
    records = []
    for number, payload in enumerate(PAYLOADS):
        records.append({
            "id": f"payload-{number}",
            "title": f"{payload} {PAYLOAD_WORD} Titel {number}",
            "text": (f"Der {PAYLOAD_WORD} berichtet {payload} über den Bau.\n"
                     f"Zweiter Absatz mit <mark>falscher Markierung</mark> und {payload}."),
            "source": payload if number % 3 == 0 else "payload.example",
            "category": payload if number % 3 == 1 else "Test",
            "url": "javascript:window.__pwned='url'" if number % 2 == 0 else
                   'https://example.org/"><script>window.__pwned="href"</script>',
            "date": "2021-02-03",
            "lang": "de",
        })
    (folder / "payloads.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    (folder / "payload-page.html").write_text(f"""<!doctype html>
<html lang="de"><head>
<title>Seite {PAYLOADS[0]}</title>
<meta property="og:title" content="{PAYLOADS[1].replace('"', '&quot;')} {PAYLOAD_WORD} Seite">
<link rel="canonical" href="javascript:window.__pwned='canonical'">
<script>window.__pwned = "head script"; alert("head")</script>
</head><body onload="window.__pwned='body'">
<h1>Überschrift <img src=x onerror="window.__pwned='h1'"></h1>
<p>Der {PAYLOAD_WORD} schreibt &lt;script&gt;window.__pwned="entity"&lt;/script&gt; als Text.</p>
<p>Ein Bild: <img src=x onerror="window.__pwned='p'; alert('p')"> und &lt;img src=x onerror=alert(8)&gt;.</p>
<p>{all_payloads}</p>
<script>window.__pwned = "body script"</script>
</body></html>
""", encoding="utf-8")
    (folder / "payload-note.txt").write_text(
        f"{PAYLOADS[1]} Notiz\n\nDer {PAYLOAD_WORD} notiert {all_payloads} im Text.\n",
        encoding="utf-8")
    ids = {f"payload-{n}": "jsonl" for n in range(len(PAYLOADS))}
    ids["payload-page"] = "html"
    ids["payload-note"] = "txt"
    return ids


# ---------------------------------------------------------------------------
# The real server: ``newssearch serve`` in a subprocess on 127.0.0.1


class Server:
    """``newssearch serve --index DIR --port 0`` started as a user starts it; always stop()."""

    def __init__(self, index_dir: Path, log_dir: Path, threads: int = 8, extra_args=()):
        self.index_dir = index_dir
        self.log = open(log_dir / "server-stderr.log", "w+", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--index", str(index_dir), "--host",
             "127.0.0.1", "--port", "0", "--threads", str(threads), *map(str, extra_args)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=self.log, text=True, env=_child_env(None))
        self.port = None
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float = 90) -> None:
        import selectors

        deadline = time.monotonic() + timeout
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        line = ""
        while self.port is None:
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                raise AssertionError(f"the server did not start: {line!r}\n{self.stderr()[-3000:]}")
            if selector.select(timeout=min(left, 1.0)):
                line = self.process.stdout.readline()
                found = re.search(r"Serving on http://127\.0\.0\.1:(\d+)/", line)
                if found:
                    self.port = int(found.group(1))
        selector.close()
        wait_until(lambda: self._healthy(), timeout=max(1.0, deadline - time.monotonic()),
                   interval=0.1, message="a healthy server")

    def _healthy(self) -> bool:
        try:
            status, _, _ = self.get("/healthz", timeout=5)
            return status in (200, 503)
        except OSError:
            return False

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connection(self, timeout: float = 30):
        import http.client

        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get(self, target: str, timeout: float = 30, connection=None):
        """``(status, headers, body bytes)`` of GET ``target`` (a path with its query string)."""
        own = connection is None
        connection = connection or self.connection(timeout)
        try:
            connection.request("GET", target)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            if own:
                connection.close()

    def stderr(self) -> str:
        """What the server logged (its stderr)."""
        if self.log.closed:
            return self._logged
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill_process(self.process)
        if self.process.stdout:
            self.process.stdout.close()
        if not self.log.closed:
            self._logged = self.stderr()
            self.log.close()


def check_error_shape(data: dict) -> None:
    """An API error: ``{"error": {"code": str, "message": str}}`` and nothing else."""
    assert isinstance(data, dict) and set(data) == {"error"}, data
    assert set(data["error"]) == {"code", "message"}, data
    assert isinstance(data["error"]["code"], str) and isinstance(data["error"]["message"], str)


def active_content(page: str) -> list[str]:
    """Markup in a page that could run script or that a payload could have injected.

    The app's own pages have none of it: scripts only by ``src`` from the same site,
    no event-handler attributes, no frames or plugins, no ``javascript:`` links.
    """
    from html.parser import HTMLParser

    found: list[str] = []

    class Finder(HTMLParser):
        def handle_starttag(self, tag, attrs):
            names = dict(attrs)
            if tag in ("iframe", "frame", "object", "embed", "base"):
                found.append(f"<{tag}>")
            if tag == "script" and not (names.get("src") or "").startswith("/static/"):
                found.append(f"<script src={names.get('src')!r}>")
            if names.get("id") == "injected":
                found.append("element with id=injected")
            for name, value in attrs:
                if name.startswith("on"):
                    found.append(f"<{tag} {name}=…>")
                if name in ("href", "src", "action", "formaction", "xlink:href") and value and \
                        re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(("javascript:", "data:text", "vbscript:")):
                    found.append(f"<{tag} {name}={value[:40]!r}>")

    finder = Finder(convert_charrefs=True)
    finder.feed(page)
    finder.close()
    return found
