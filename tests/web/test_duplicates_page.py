"""Near-duplicates on the page, in headless Chromium against a real ``newssearch serve``.

A slice of one part of the real FANG corpus is indexed (the pair, a version of
it with markup in its headline and the first 40 other articles of the part by
id); the server runs on 127.0.0.1.
The search page shows "Auch bei: …" under the hit that stands for a copy of
its report from another outlet, with a link to it; "Alle Fassungen einzeln
zeigen" shows both; the article page lists the other version and links to a
comparison whose removed and added words are marked (and escaped: a version
holding markup shows it as text). Screenshots are left in test-output/.

The corpus is read from ../shared/corpora beside the checkout (the test fails,
never skips, when it is missing).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from search import Settings, index_paths
from support.corpora import REPO, read_fang
from support.server import Server

PART = "part-020.jsonl.gz"
PAIR = ("fang-21734", "fang-27788")  # one report: sueddeutsche.de, tagesspiegel.de
OUTPUT = REPO / "test-output"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
WAIT_SECONDS = 20
PAYLOAD = "<img src=x onerror=alert(1)>"
OTHERS = 40


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("dups-page")
    everything = read_fang(PART)
    others = sorted(r["id"] for r in everything if r["id"] not in PAIR)[:OTHERS]
    chosen = {*PAIR, *others}
    records = [r for r in everything if r["id"] in chosen]
    # A version of the tagesspiegel copy whose headline holds markup: shown as text.
    marked = dict(next(r for r in records if r["id"] == PAIR[1]), id="fang-27788-markup",
                  header="Möser " + PAYLOAD)
    corpus = base / "corpus"
    corpus.mkdir()
    (corpus / "part.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records + [marked]),
        encoding="utf-8")
    index = base / "index"
    report = index_paths([corpus], Settings(index_dir=index))
    assert report.documents == len(records) + 1, report.to_dict()
    running = Server(["--index", index, "--workers", "1", "--threads", "4"],
                     base / "server.log")
    yield running
    running.stop()


@pytest.fixture
def browser(tmp_path):
    for program in (CHROMIUM, CHROMEDRIVER):
        if not program.exists():
            pytest.fail(f"{program} is missing: install the Debian packages chromium and "
                        f"chromium-driver", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tmp_path / "profile"
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1280,900")
    options.add_argument("--lang=de-DE")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _screenshot(driver, name: str) -> Path:
    folder = OUTPUT / "test_duplicates_page"
    folder.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1280, "height": min(int(height), 3000), "deviceScaleFactor": 1,
        "mobile": False})
    path = folder / name
    driver.save_screenshot(str(path))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert path.stat().st_size > 10_000
    return path


def _args(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_also_at_versions_and_comparison(server, browser):
    driver = browser
    wait = WebDriverWait(driver, WAIT_SECONDS)
    driver.get(server.url + "/?q=Janik+M%C3%B6ser+Herzmuskelentz%C3%BCndung")
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "ol.hits li.hit")))

    # One hit stands for the copies: "Auch bei: tagesspiegel.de (+1)" (the markup version).
    hits = driver.find_elements(By.CSS_SELECTOR, "ol.hits li.hit")
    ids = [urlsplit(h.find_element(By.CSS_SELECTOR, ".hit__title a").get_attribute("href"))
           .path.rsplit("/", 1)[-1] for h in hits]
    assert PAIR[0] in ids and PAIR[1] not in ids and "fang-27788-markup" not in ids
    head = hits[ids.index(PAIR[0])]
    line = head.find_element(By.CSS_SELECTOR, ".also-at")
    assert re.fullmatch(r"Auch bei: tagesspiegel\.de \(\+1\)", line.text), line.text
    link = line.find_element(By.CSS_SELECTOR, "a.also-at__link")
    assert urlsplit(link.get_attribute("href")).path in (f"/artikel/{PAIR[1]}",
                                                         "/artikel/fang-27788-markup")
    note = driver.find_element(By.CSS_SELECTOR, ".results__folded")
    assert note.text.startswith("1 Meldung: 2 gleiche Fassungen stehen unter dem Treffer"), note.text
    assert not driver.find_elements(By.TAG_NAME, "img")  # the payload stays text
    _screenshot(driver, "search-folded.png")

    # Every version on its own.
    note.find_element(By.CSS_SELECTOR, "a.results__collapse").click()
    wait.until(lambda d: _args(d.current_url).get("collapse") == "0")
    titles = [a.get_attribute("href") for a in
              driver.find_elements(By.CSS_SELECTOR, ".hit__title a")]
    assert any(f"/artikel/{PAIR[1]}" in t for t in titles)
    assert any(f"/artikel/{PAIR[0]}" in t for t in titles)
    assert not driver.find_elements(By.CSS_SELECTOR, ".also-at")
    shown = driver.find_elements(By.XPATH, f"//*[contains(text(), '{PAYLOAD}')]")
    assert shown, "the headline with markup is shown as text"
    _screenshot(driver, "search-every-version.png")

    # The article page lists the other versions; "(+1)" led there.
    driver.back()
    wait.until(lambda d: "collapse" not in _args(d.current_url))
    driver.find_element(By.CSS_SELECTOR, ".also-at__more").click()
    wait.until(ready.presence_of_element_located((By.ID, "fassungen")))
    assert urlsplit(driver.current_url).fragment == "fassungen"
    versions = driver.find_elements(By.CSS_SELECTOR, "#fassungen .versions__item")
    assert {urlsplit(v.find_element(By.CSS_SELECTOR, ".versions__link").get_attribute("href"))
            .path for v in versions} == {f"/artikel/{PAIR[1]}", "/artikel/fang-27788-markup"}
    _screenshot(driver, "article-versions.png")

    # Comparing two versions: removed and added words marked, the rest as it is.
    compare = next(v for v in versions if f"/artikel/{PAIR[1]}" in
                   v.find_element(By.CSS_SELECTOR, ".versions__link").get_attribute("href"))
    compare.find_element(By.CSS_SELECTOR, "a.versions__compare").click()
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, ".compare__diff")))
    assert _args(driver.current_url) == {"a": PAIR[0], "b": PAIR[1]}
    removed = driver.find_elements(By.CSS_SELECTOR, ".compare__diff del.diff__removed")
    added = driver.find_elements(By.CSS_SELECTOR, ".compare__diff ins.diff__added")
    assert removed and added
    assert "Besorgniserregender Fall Möser" in " ".join(a.text for a in added)
    assert added[0].value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"
    summary = driver.find_element(By.CSS_SELECTOR, ".compare__summary").text
    assert re.match(r"\d+ % des Textes stimmen überein", summary), summary
    _screenshot(driver, "compare.png")

    # The version with markup in its headline: compared, the markup is text.
    driver.get(server.url + f"/vergleich?a={PAIR[1]}&b=fang-27788-markup")
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, ".compare__diff")))
    assert PAYLOAD in driver.find_element(By.CSS_SELECTOR, ".compare__diff ins").text
    assert not driver.find_elements(By.TAG_NAME, "img")
    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, errors
