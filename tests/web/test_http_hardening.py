"""What the HTTP server refuses, and how: a live ``newssearch serve`` on 127.0.0.1.

- Request bodies: a read-only app needs none, so waitress takes a few KB at most
  (``http_max_body_bytes``). A 50 MB body, announced or chunked, is refused with 413
  in the app's JSON error shape, and no byte of it reaches a file (waitress spools
  bodies over 512 KB to temporary files: the server's descriptors and its disk
  writes are watched during the upload).
- Request heads over ``http_max_header_bytes`` get 431, malformed requests 400,
  unknown transfer codings 501: JSON under ``/api/``, a page elsewhere, and the
  security headers on both, like every answer of the app.
- A response echoes only the part of ``q`` that was searched: a page for a query of
  20,000 characters is as large as the page for its first 1,000.
- OPTIONS is 204 with ``Allow``; ``/robots.txt`` keeps crawlers off result pages and
  the API, result pages say ``noindex``; search and article answers carry an ETag of
  the index generation (304 when it still holds, a new tag after a reindex) and
  ``Cache-Control``; CORS for the GET API only when asked for.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
FIFTY_MB = 50 * 1024 * 1024


def _newssearch() -> list[str]:
    script = Path(sys.executable).with_name("newssearch")
    return [str(script)] if script.exists() else [sys.executable, "-c",
                                                  "from web.cli import main; main()"]


class LiveServer:
    """``newssearch serve --workers 1`` on a free port, with its own temporary folder."""

    def __init__(self, index_dir: Path, tmp: Path, *args: str):
        self.tmp = tmp / "server-tmp"
        self.tmp.mkdir()
        self.log = open(tmp / "server.log", "w+", encoding="utf-8")
        self.process = subprocess.Popen(
            [*_newssearch(), "serve", "--index", str(index_dir), "--host", "127.0.0.1",
             "--port", "0", "--workers", "1", "--threads", "4", *args],
            stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=REPO,
            env={**os.environ, "TMPDIR": str(self.tmp), "PYTHONUNBUFFERED": "1"},
            start_new_session=True)
        found = threading.Event()
        self.port = None

        def read():
            for line in self.process.stdout:
                match = re.search(r"Serving on http://127\.0\.0\.1:(\d+)/", line)
                if match and self.port is None:
                    self.port = int(match.group(1))
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(120):
            self.stop()
            raise AssertionError(f"the server did not start:\n{self.output()}")

    def output(self) -> str:
        if self.log.closed:
            return self._logged
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def raw(self, data: bytes, timeout: float = 20) -> bytes:
        """Send ``data`` as it is and read the answer until the server closes."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            return _read_all(sock)

    def get(self, target: str, headers: dict | None = None, method: str = "GET"):
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, target, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def open_descriptors(self) -> list[str]:
        targets = []
        for entry in Path(f"/proc/{self.process.pid}/fd").iterdir():
            try:
                targets.append(os.readlink(entry))
            except OSError:
                pass
        return targets

    def written_bytes(self) -> int:
        """Bytes the server process caused to be written to storage (``/proc/PID/io``)."""
        text = Path(f"/proc/{self.process.pid}/io").read_text()
        return int(re.search(r"^write_bytes: (\d+)", text, re.M).group(1))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if not self.log.closed:
            self._logged = self.output()
            self.log.close()


def _read_all(sock) -> bytes:
    out = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return out
            out += chunk
    except (ConnectionResetError, socket.timeout):
        return out


def _parse(answer: bytes) -> tuple[int, dict, bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def _error(body: bytes, code: str) -> dict:
    data = json.loads(body)
    assert set(data) == {"error"} and set(data["error"]) == {"code", "message"}, data
    assert data["error"]["code"] == code, data
    return data


def _secured(headers) -> None:
    headers = {k.lower(): v for k, v in dict(headers).items()}
    assert "default-src 'none'" in headers["content-security-policy"], headers
    assert headers["x-content-type-options"] == "nosniff"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    from search import Settings, index_paths

    folder = tmp_path_factory.mktemp("hardening") / "index"
    assert index_paths([CORPUS], Settings(index_dir=folder)).documents > 40
    return folder


@pytest.fixture(scope="module")
def server(index_dir, tmp_path_factory):
    running = LiveServer(index_dir, tmp_path_factory.mktemp("hardening-server"))
    yield running
    running.stop()
    assert "Traceback" not in running.output(), running.output()[-3000:]


# -- bodies ----------------------------------------------------------------------


def _upload(server: LiveServer, head: bytes, body_chunks) -> tuple[bytes, int, list[str]]:
    """Send ``head`` and then the chunks until the server stops reading; answers what it
    said, how many body bytes went out, and any descriptor of the server that pointed
    into its temporary folder (sampled after every chunk)."""
    spooled: list[str] = []
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
                sent += len(chunk)
                spooled += [t for t in server.open_descriptors() if str(server.tmp) in t]
        except (BrokenPipeError, ConnectionResetError):
            pass
        return _read_all(sock), sent, spooled


def test_a_50_mb_body_is_refused_before_it_is_read_and_never_reaches_a_file(server):
    written = server.written_bytes()
    piece = b"x" * 65536
    head = (b"POST /api/search?q=Stadt HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % FIFTY_MB)
    answer, sent, spooled = _upload(server, head, (piece for _ in range(FIFTY_MB // 65536)))
    status, headers, body = _parse(answer)
    assert status == 413, answer[:300]
    _error(body, "too_large")
    _secured(headers)
    assert headers["content-type"].startswith("application/json")
    assert sent < FIFTY_MB // 2, sent  # refused as soon as the length was announced
    assert spooled == [] and list(server.tmp.iterdir()) == []

    # The same body in chunks (no length announced): refused once a few KB arrived.
    def chunks():
        for _ in range(FIFTY_MB // 65536):
            yield b"10000\r\n" + piece + b"\r\n"

    head = (b"PUT /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    answer, sent, spooled = _upload(server, head, chunks())
    status, headers, body = _parse(answer)
    assert status == 413, answer[:300]
    _error(body, "too_large")
    assert sent < FIFTY_MB // 2, sent
    assert spooled == [] and list(server.tmp.iterdir()) == []
    # Nothing went to the disk meanwhile (the index is only read).
    assert server.written_bytes() - written < 1024 * 1024, server.written_bytes() - written
    status, _, body = server.get("/api/search?q=Stadt")
    assert status == 200 and json.loads(body)["total"] > 0


def test_a_small_body_gets_the_json_405_of_the_app(server):
    answer = server.raw(b"POST /api/search?q=Stadt HTTP/1.1\r\nHost: x\r\nContent-Length: 2"
                        b"\r\nConnection: close\r\n\r\n{}")
    status, headers, body = _parse(answer)
    assert status == 405 and "GET" in headers["allow"]
    _error(body, "method_not_allowed")


# -- heads and malformed requests ---------------------------------------------------------


def test_what_waitress_refuses_is_answered_in_the_apps_shape(server):
    long_query = "%C3%A4" * 8000  # 48 KB of request line: over the 32 KB head limit
    status, headers, body = _parse(server.raw(
        f"GET /api/search?q={long_query} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
    assert status == 431
    _error(body, "headers_too_large")
    _secured(headers)

    status, headers, body = _parse(server.raw(
        f"GET /?q={long_query} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
    assert status == 431 and headers["content-type"].startswith("text/html")
    _secured(headers)
    assert "Anfrage zu groß" in body.decode("utf-8")

    many_headers = "".join(f"X-Filler-{n}: {'y' * 100}\r\n" for n in range(400))
    status, headers, body = _parse(server.raw(
        f"GET /api/stats HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n".encode()))
    assert status == 431
    _error(body, "headers_too_large")

    status, headers, body = _parse(server.raw(
        b"GET /api/search?q=Stadt HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n"))
    assert status == 400
    _error(body, "bad_request")
    _secured(headers)

    status, headers, body = _parse(server.raw(
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: twelve\r\n\r\n"))
    assert status == 400
    _error(body, "bad_request")

    status, headers, body = _parse(server.raw(
        b"GET /api/search?q=x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"))
    assert status == 501
    _error(body, "not_implemented")
    _secured(headers)

    # A request just under the limit is answered by the app, and the server goes on.
    status, _, body = server.get("/api/search?q=" + "%C3%A4" * 4000)
    assert status == 200 and len(json.loads(body)["query"]) == 1000


# -- echoes --------------------------------------------------------------------------------


def test_only_the_searched_part_of_the_query_is_echoed(server):
    words = "Stadt Fahrrad Rathaus Zug Bahnhof " * 600  # 20,400 characters
    assert len(words) > 20_000
    short_status, _, short_page = server.get("/?q=" + quote(words[:1000]))
    long_status, _, long_page = server.get("/?q=" + quote(words))
    assert short_status == long_status == 200
    # The same page, but for the time it took: nothing of the rest comes back.
    strip = re.compile(rb"\d+,\d+\s*s")
    assert strip.sub(b"", short_page) == strip.sub(b"", long_page)
    assert len(long_page) < 40 * 1000 + 5 * 12 * 1000, len(long_page)

    status, _, body = server.get("/api/search?q=" + quote(words))
    data = json.loads(body)
    assert status == 200 and data["query"] == words[:1000]
    status, _, page = server.get("/artikel/nirgends?q=" + quote(words))
    assert status == 404 and quote(words[:1001]).encode() not in page


# -- OPTIONS, crawlers, validators ------------------------------------------------------------


def test_options_is_answered_with_allow(server):
    for target in ("/api/search", "/", "/api/stats", "/healthz"):
        status, headers, body = server.get(target, method="OPTIONS")
        assert status == 204 and body == b"", (target, status)
        assert set(headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD", "OPTIONS"}
        assert "Content-Type" not in headers
        _secured(headers)
        assert "Access-Control-Allow-Origin" not in headers  # CORS is off by default
    status, _, body = server.get("/api/nothing", method="OPTIONS")
    assert status == 404
    _error(body, "not_found")


def test_crawlers_are_kept_off_result_pages_and_the_api(server):
    status, headers, body = server.get("/robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    rules = body.decode().splitlines()
    assert rules[0] == "User-agent: *"
    for path in ("/?", "/api/", "/artikel/*?"):
        assert f"Disallow: {path}" in rules
    assert "Disallow: /" not in rules  # the start page and plain articles may be crawled

    _, headers, page = server.get("/?q=Stadt")
    assert b'<meta name="robots" content="noindex">' in page
    _, _, start = server.get("/")
    assert b'name="robots"' not in start
    _, headers, _ = server.get("/api/search?q=Stadt")
    assert headers["X-Robots-Tag"] == "noindex"


def test_search_and_article_answers_are_validated_per_index_generation(server, index_dir):
    status, headers, body = server.get("/api/search?q=Stadt")
    tag = headers["ETag"]
    assert status == 200 and tag.startswith('W/"') and headers["Cache-Control"] == "no-cache"
    article_id = json.loads(body)["hits"][0]["id"]

    status, headers, body = server.get("/api/search?q=Stadt", {"If-None-Match": tag})
    assert status == 304 and body == b"" and headers["ETag"] == tag
    _secured(headers)
    for target in (f"/artikel/{quote(article_id, safe='')}?q=Stadt",
                   f"/api/articles/{quote(article_id, safe='')}", "/?q=Stadt", "/api/stats"):
        status, headers, _ = server.get(target)
        assert status == 200 and headers["ETag"], target
        status, _, body = server.get(target, {"If-None-Match": headers["ETag"]})
        assert status == 304 and body == b"", target
    # Answers that must never be reused say so.
    for target in ("/healthz", "/api/search?q=x&page=0", "/nirgendwo"):
        _, headers, _ = server.get(target)
        assert headers["Cache-Control"] == "no-store" and "ETag" not in headers, target

    from search import Settings, index_paths

    index_paths([CORPUS], Settings(index_dir=index_dir), rebuild=True)  # a new generation
    status, headers, body = server.get("/api/search?q=Stadt", {"If-None-Match": tag})
    assert status == 200 and json.loads(body)["total"] > 0
    assert headers["ETag"] != tag


# -- CORS (a setting; the app itself, no server needed) ------------------------------------------


def test_cors_for_the_get_api_only_when_asked_for(index_dir):
    from search import Settings
    from web import create_app

    settings = Settings(index_dir=index_dir, cors_origins=("https://zeitung.example",))
    client = create_app({"SETTINGS": settings}).test_client()
    response = client.get("/api/search?q=Stadt", headers={"Origin": "https://zeitung.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://zeitung.example"
    assert "Origin" in response.headers["Vary"]
    response = client.get("/api/search?q=Stadt", headers={"Origin": "https://other.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    response = client.get("/?q=Stadt", headers={"Origin": "https://zeitung.example"})
    assert "Access-Control-Allow-Origin" not in response.headers  # pages are not the API
    preflight = client.open("/api/search", method="OPTIONS", headers={
        "Origin": "https://zeitung.example", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://zeitung.example"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]

    anyone = create_app({"SETTINGS": settings.with_changes(cors_origins=("*",))}).test_client()
    response = anyone.get("/api/stats", headers={"Origin": "https://wer.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"

    closed = create_app({"SETTINGS": Settings(index_dir=index_dir)}).test_client()
    response = closed.get("/api/search?q=Stadt", headers={"Origin": "https://zeitung.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
