"""Trends, keyword in context, export and feeds over HTTP: the real server, headless Chromium,
feedparser and schemathesis.

One module-wide server: ``newssearch serve`` on 127.0.0.1 over a Whoosh index
of one part of the real FANG corpus (1,000 articles of 11–22 May 2020).
Screenshots are left in ``test-output/`` (and were looked at when these tests
were written: the chart with its legend and dotted/dashed lines, the
concordance aligned on its middle column, the result page with its links).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import feedparser
import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[2]
CORPORA = Path(os.environ.get("NEWSSEARCH_CORPORA", REPO.parent / "shared" / "corpora"))
PART = CORPORA / "fang-covid-real" / "part-006.jsonl.gz"
OUTPUT = REPO / "test-output" / "research"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
WAIT_SECONDS = 30
START_SECONDS = 120


class Server:
    """``newssearch serve`` on an ephemeral port of 127.0.0.1 (its process group is ended at
    teardown; it also ends when this process does)."""

    def __init__(self, index: Path, log: Path):
        script = Path(sys.executable).with_name("newssearch")
        command = [str(script)] if script.exists() else [sys.executable, "-m", "web"]
        self.log = open(log, "w", encoding="utf-8")
        self.process = subprocess.Popen(
            [*command, "serve", "--index", str(index), "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        found = threading.Event()
        self.url = None

        def read():
            for line in self.process.stdout:
                match = re.search(r"Serving on (http://127\.0\.0\.1:\d+)/", line)
                if match and not found.is_set():
                    self.url = match.group(1)
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(START_SECONDS):
            self.stop()
            raise AssertionError(f"the server did not start within {START_SECONDS} s: "
                                 f"{log.read_text()}")

    def get(self, path: str, timeout: float = 60):
        """``(status, headers, body)``; HTTP errors are answers too."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.request.HTTPError as error:
            with error:
                return error.code, error.headers, error.read()

    def stop(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not PART.is_file():
        pytest.fail(f"shared corpus file missing: {PART} (the tests read the real corpora from "
                    f"../shared/corpora beside the repository, or NEWSSEARCH_CORPORA)",
                    pytrace=False)
    from search import Settings, index_paths

    base = tmp_path_factory.mktemp("research-web")
    report = index_paths([PART], Settings(index_dir=base / "index"))
    assert report.documents == 1000, report.to_dict()
    running = Server(base / "index", base / "server.log")
    yield running
    running.stop()


def _json(server, path):
    status, headers, body = server.get(path)
    assert headers["Content-Type"].startswith("application/json"), (path, headers)
    return status, json.loads(body)


# -- the API ---------------------------------------------------------------------------


BAD = [
    "/api/trends?q=Maske&interval=year", "/api/trends?q=Maske&format=xml",
    "/api/trends?q=Maske&from=2020-13", "/api/trends?q=Maske&from=2020-06&to=2020-05",
    "/api/trends?" + "&".join(["q=Maske"] * 7),
    "/api/kwic?q=Maske&width=0", "/api/kwic?q=Maske&width=abc", "/api/kwic?q=Maske&width=",
    "/api/kwic?q=Maske&sort=up", "/api/kwic?q=Maske&page=0", "/api/kwic?q=Maske&page=",
    "/api/kwic?q=Maske&per_page=100000", "/api/kwic?q=Maske&to=20",
    "/api/export?q=Maske&format=xml", "/api/export?q=Maske&sort=left",
    "/api/export?q=Maske&from=x", "/feed?q=Maske&from=2020-02-30x", "/feed?q=Maske&to=2020-1",
]


@pytest.mark.parametrize("path", BAD)
def test_bad_parameters_are_400_json(server, path):
    status, body = _json(server, path)
    assert status == 400, (path, body)
    assert set(body) == {"error"} and body["error"]["code"] == "invalid_parameter"
    assert body["error"]["message"]


def test_trend_json_and_csv_hold_the_same_numbers(server):
    path = "/api/trends?q=Maske&q=%22Angela+Merkel%22&interval=day&source=zeit.de"
    status, result = _json(server, path)
    assert status == 200 and result["filters"]["source"] == ["zeit.de"]
    assert len(result["intervals"]) >= 10
    status, headers, body = server.get(path + "&format=csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))
    expected = [(s["query"], p["key"], p["count"], p["total"], p["rate"])
                for s in result["series"] for p in s["points"]]
    assert [(r["query"], r["interval"], int(r["count"]), int(r["total"]),
             float(r["rate_per_10000"]) if r["rate_per_10000"] else None) for r in rows] \
        == expected
    # each day's count is that day's search through the API
    for point in result["series"][0]["points"][:5]:
        _, found = _json(server, f"/api/search?q=Maske&source=zeit.de&from={point['from']}"
                                 f"&to={point['to']}&per_page=1")
        assert found["total"] == point["count"]


def test_kwic_api_pages_the_lines(server):
    status, first = _json(server, "/api/kwic?q=Maske&per_page=5&width=20&sort=left")
    assert status == 200 and len(first["lines"]) == 5 and first["total"] > 10
    status, second = _json(server, "/api/kwic?q=Maske&per_page=5&width=20&sort=left&page=2")
    assert second["lines"] and second["lines"][0] != first["lines"][0]
    for line in first["lines"] + second["lines"]:
        _, article = _json(server, "/api/articles/" + quote(line["id"], safe=""))
        text = article[line["field"]]
        assert text[line["offset"]:line["offset"] + len(line["match"])] == line["match"]
        assert line["match"].lower().startswith("mask")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_streams_every_hit(server, fmt):
    # every article, as the export writes them (near-duplicates not folded)
    _, search = _json(server, "/api/search?q=Corona&source=tagesspiegel.de&per_page=100"
                              "&collapse=0")
    status, headers, body = server.get(f"/api/export?q=Corona&source=tagesspiegel.de&format={fmt}")
    assert status == 200 and "X-Export-Notice" not in headers
    assert headers["Content-Disposition"] == f'attachment; filename="newssearch-export.{fmt}"'
    assert int(headers["X-Total-Count"]) == int(headers["X-Export-Rows"]) == search["total"] > 100
    text = body.decode("utf-8")
    if fmt == "csv":
        assert headers["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    else:
        assert headers["Content-Type"].startswith("application/x-ndjson")
        rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == search["total"]
    assert [r["id"] for r in rows[:100]] == [h["id"] for h in search["hits"]]
    assert all(r["source"] == "tagesspiegel.de" for r in rows)


# -- the feed --------------------------------------------------------------------------


def test_feed_is_valid_atom_of_the_newest_articles(server):
    status, headers, body = server.get("/feed?q=Corona")
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "newssearch: Corona" and feed.feed.id.startswith("urn:uuid:")
    entries = feed.entries
    assert len(entries) == 50
    _, newest = _json(server, "/api/search?q=Corona&sort=date&per_page=50")
    assert [e.link for e in entries] == [
        server.url + "/artikel/" + quote(h["id"], safe="!$&'()*+,:;=@") for h in newest["hits"]]
    # newest first as the index orders: by each article's own clock time, as published
    published = [e.published for e in entries]
    assert published == [h["date"] + ("" if h["date"][19:] else "Z") for h in newest["hits"]]
    clock = [p[:19] for p in published]
    assert clock == sorted(clock, reverse=True)
    assert feed.feed.updated == max(
        published, key=lambda p: datetime.fromisoformat(p.replace("Z", "+00:00")))
    ids = [e.id for e in entries]
    assert len(set(ids)) == 50 and all(i.startswith("urn:uuid:") for i in ids)
    again = feedparser.parse(server.get("/feed?q=Corona")[2])
    assert [e.id for e in again.entries] == ids and again.feed.id == feed.feed.id
    narrower = feedparser.parse(server.get("/feed?q=Corona&source=zeit.de")[2])
    assert not narrower.bozo and narrower.feed.id != feed.feed.id
    shared = {e.link: e.id for e in entries}
    assert all(shared.get(e.link, e.id) == e.id for e in narrower.entries)
    assert all(e.summary for e in entries)
    empty = feedparser.parse(server.get("/feed?q=Zzzyxwq")[2])
    assert not empty.bozo and empty.entries == [] and empty.feed.updated


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "link":
            self.links.append(dict(attrs))


def test_result_page_links_its_feed(server):
    status, _, body = server.get("/?q=Corona&source=zeit.de")
    assert status == 200
    parser = _Links()
    parser.feed(body.decode("utf-8"))
    feeds = [link for link in parser.links if link.get("rel") == "alternate"]
    assert len(feeds) == 1 and feeds[0]["type"] == "application/atom+xml"
    assert parse_qs(urlsplit(feeds[0]["href"]).query) == {"q": ["Corona"], "source": ["zeit.de"]}
    status, _, linked = server.get(feeds[0]["href"])
    assert status == 200 and not feedparser.parse(linked).bozo


# -- the pages in Chromium -----------------------------------------------------------------


@pytest.fixture
def browser(tmp_path):
    for program in (CHROMIUM, CHROMEDRIVER):
        if not program.exists():
            pytest.fail(f"{program} is missing: install the Debian packages chromium and "
                        f"chromium-driver", pytrace=False)
    profile = tmp_path / "profile"
    profile.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1280,900")
    options.add_argument("--lang=de-DE")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                              options=options)
    driver.set_page_load_timeout(90)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _screenshot(driver, name: str, width: int = 1280) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600})
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": min(int(height), 4000), "deviceScaleFactor": 1,
        "mobile": width < 600})
    path = OUTPUT / name
    driver.save_screenshot(str(path))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert path.stat().st_size > 10_000
    return path


def _severe(driver) -> list[str]:
    """Errors in the console (a CSP violation would be one), but for the 400 of a page
    asked with a bad parameter on purpose."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"
            and "status of 400" not in e["message"]]


def test_trends_page_draws_the_series_and_links_each_point(server, browser):
    driver = browser
    driver.get(server.url + "/verlauf?q=Maske&q=%22Angela+Merkel%22&q=Lockerung*&interval=day")
    chart = WebDriverWait(driver, WAIT_SECONDS).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, "svg.trend__chart")))
    _, result = _json(server, "/api/trends?q=Maske&q=%22Angela+Merkel%22&q=Lockerung*"
                              "&interval=day")
    groups = chart.find_elements(By.CSS_SELECTOR, "g.trend__series")
    assert len(groups) == 3
    for group, series in zip(groups, result["series"]):
        points = group.find_elements(By.CSS_SELECTOR, "a.trend__point")
        assert len(points) == sum(p["rate"] is not None for p in series["points"]) > 5
        assert group.find_elements(By.CSS_SELECTOR, "polyline")
    legend = [item.text for item in driver.find_elements(By.CSS_SELECTOR, ".trend__legend-item")]
    assert [re.split(r"\s*\(", text)[0] for text in legend] == ["Maske", '"Angela Merkel"',
                                                               "Lockerung*"]
    # three different strokes (colour and dash)
    strokes = {driver.execute_script(
        "const s = getComputedStyle(arguments[0]); return s.stroke + '|' + s.strokeDasharray",
        group.find_element(By.CSS_SELECTOR, "polyline")) for group in groups}
    assert len(strokes) == 3
    _screenshot(driver, "verlauf.png")
    assert not _severe(driver), _severe(driver)

    # A point leads to the search of its day, whose count is the point's.
    point = groups[0].find_elements(By.CSS_SELECTOR, "a.trend__point")[3]
    label = point.get_attribute("aria-label")
    count = int(re.search(r": ([\d.]+) von", label).group(1).replace(".", ""))
    driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))",
                          point)
    WebDriverWait(driver, WAIT_SECONDS).until(lambda d: urlsplit(d.current_url).path == "/")
    args = parse_qs(urlsplit(driver.current_url).query)
    assert args["q"] == ["Maske"] and args["from"] == args["to"]
    shown = driver.find_element(By.CSS_SELECTOR, ".results__count strong").text
    assert int(shown.split()[0].replace(".", "")) == count

    # The numbers as a table, the measure switched, a bad interval said beside the form.
    driver.get(server.url + "/verlauf?q=Maske&interval=week&measure=count")
    table = driver.find_element(By.CSS_SELECTOR, ".trend__table")
    table.find_element(By.TAG_NAME, "summary").click()
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) >= 2 and rows[0].find_element(By.TAG_NAME, "th").text.startswith("KW ")
    _screenshot(driver, "verlauf-weeks.png")
    driver.get(server.url + "/verlauf?q=Maske&interval=year")
    assert "Intervall" in driver.find_element(By.CSS_SELECTOR, ".notice--error").text
    driver.get(server.url + "/verlauf?q=Maske")
    _screenshot(driver, "verlauf-mobile.png", width=390)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    widths = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == 390, widths  # no sideways scrolling on a phone
    assert not _severe(driver), _severe(driver)


def test_kwic_page_aligns_the_matches(server, browser):
    driver = browser
    driver.get(server.url + "/kwic?q=Maske&sort=left&width=50")
    WebDriverWait(driver, WAIT_SECONDS).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, "table.kwic tbody tr")))
    _, result = _json(server, "/api/kwic?q=Maske&sort=left&width=50")
    rows = driver.find_elements(By.CSS_SELECTOR, "table.kwic tbody tr")
    assert len(rows) == len(result["lines"]) == 50
    geometry = driver.execute_script("""
        return [...document.querySelectorAll('table.kwic tbody tr')].map(row => {
          const left = row.querySelector('.kwic__left'), clip = left.querySelector('.kwic__clip');
          const text = clip.querySelector('span'), match = row.querySelector('.kwic__match a');
          return [clip.getBoundingClientRect().right, text.getBoundingClientRect().right,
                  match.getBoundingClientRect().left + match.getBoundingClientRect().width / 2,
                  match.textContent, text.textContent];
        });""")
    centres = [round(g[2]) for g in geometry]
    assert max(centres) - min(centres) <= 1, centres  # every match in one column
    for (clip_right, text_right, _, match, left), line in zip(geometry, result["lines"]):
        assert abs(clip_right - text_right) <= 1  # the left context ends at the column
        assert match == line["match"] and left == line["left"]
    _screenshot(driver, "kwic.png")
    link = rows[0].find_element(By.CSS_SELECTOR, ".kwic__match a")
    target = link.get_attribute("href")
    assert urlsplit(target).path == "/artikel/" + quote(result["lines"][0]["id"], safe="")
    driver.get(server.url + "/kwic?q=Maske&width=x")
    assert driver.find_element(By.CSS_SELECTOR, ".notice--error").text
    driver.get(server.url + "/kwic?q=Maske")
    _screenshot(driver, "kwic-mobile.png", width=390)
    assert not _severe(driver), _severe(driver)


def test_result_page_leads_to_the_studies(server, browser):
    driver = browser
    driver.get(server.url + "/?q=Maske&source=zeit.de")
    links = {a.text: a.get_attribute("href")
             for a in driver.find_elements(By.CSS_SELECTOR, ".study-links a")}
    assert set(links) == {"Verlauf", "Wort im Kontext", "CSV", "JSONL", "Feed (Atom)"}
    for name in ("Verlauf", "Wort im Kontext"):
        args = parse_qs(urlsplit(links[name]).query)
        assert args["q"] == ["Maske"] and args["source"] == ["zeit.de"]
    _screenshot(driver, "result-links.png")
    driver.get(links["Verlauf"])
    assert driver.find_elements(By.CSS_SELECTOR, "svg.trend__chart g.trend__series")
    driver.get(links["Wort im Kontext"])
    sources = {td.text for td in driver.find_elements(By.CSS_SELECTOR, ".kwic__meta")}
    assert sources and all("zeit.de" in text for text in sources)
    assert not _severe(driver), _severe(driver)


# -- schemathesis against the running server ---------------------------------------------


OPERATIONS = ["/api/trends", "/api/kwic", "/api/export", "/feed", "/verlauf", "/kwic"]
EXAMPLES = 25


@pytest.fixture(scope="module")
def live_schema(server):
    config = schemathesis.Config.from_dict({"request-timeout": 60})
    return schemathesis.openapi.from_url(server.url + "/api/openapi.json", config=config)


def valid_data_accepted(ctx, response, case):
    """Valid parameters are answered, except for what a schema cannot state: ``from``
    after ``to``."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    query = case.query or {}
    start, end = str(query.get("from") or ""), str(query.get("to") or "")
    if start and end and start[:len(end)] > end[:len(start)]:
        return None
    raise AssertionError(f"valid data rejected with 400 for {query}: {response.text[:300]}")


def no_stack_traces(ctx, response, case):
    text = response.content.decode("utf-8", "replace")
    assert "Traceback" not in text and 'File "' not in text
    return None


def test_new_operations_are_described(server):
    _, spec = _json(server, "/api/openapi.json")
    for path in OPERATIONS:
        assert set(spec["paths"][path]) == {"get"}
    assert {"Trends", "Kwic", "KwicLine"} <= set(spec["components"]["schemas"])


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
@pytest.mark.parametrize("path", OPERATIONS)
def test_new_operations_conform_to_openapi(live_schema, path, mode):
    operation = live_schema[path]["GET"]
    calls = []

    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck),
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        calls.append(case)
        case.call_and_validate(excluded_checks=[positive_data_acceptance],
                               additional_checks=[valid_data_accepted, no_stack_traces],
                               timeout=60)

    check()
    assert calls
