"""The search page in headless Chromium (the system's, no browser download), driven by selenium."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
WAIT_SECONDS = 20
QUERY = "Maßnahmen Schulen"


def _browser(profile: Path, javascript: bool = True) -> webdriver.Chrome:
    for program in (CHROMIUM, CHROMEDRIVER):
        if not program.exists():
            pytest.fail(f"{program} is missing: install the Debian packages chromium and "
                        f"chromium-driver", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1280,900")
    options.add_argument("--lang=de-DE")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(profile.parent / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture
def browser(tmp_path):
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    driver = _browser(profile)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _args(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _wait_for_url(driver, predicate, what: str):
    WebDriverWait(driver, WAIT_SECONDS).until(lambda d: predicate(_args(d.current_url)),
                                              message=f"page did not change to {what}")


def _full_page_screenshot(driver, path: Path, width: int = 1280, mobile: bool = False):
    """The whole page at ``width`` CSS pixels (as a phone with ``mobile``)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": mobile})
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": min(int(height), 4000), "deviceScaleFactor": 1, "mobile": mobile})
    driver.save_screenshot(str(path))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _console_errors(driver) -> list[str]:
    try:
        entries = driver.get_log("browser")
    except WebDriverException:
        return []
    return [e["message"] for e in entries if e.get("level") == "SEVERE"]


def test_search_facet_histogram_paging_article(web_server, browser, web_output):
    driver = browser
    wait = WebDriverWait(driver, WAIT_SECONDS)
    driver.get(web_server.url + "/")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"

    # Type a German query into the search box, which has the focus.
    box = wait.until(ready.element_to_be_clickable((By.ID, "q-start")))
    assert driver.switch_to.active_element == box
    box.send_keys(QUERY, Keys.ENTER)
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "ol.hits li.hit")))

    count = driver.find_element(By.CSS_SELECTOR, ".results__count").text
    assert re.fullmatch(r"[\d.]+ Treffer \(\d,\d{3} s\)", count), count
    marks = driver.find_elements(By.CSS_SELECTOR, ".hit__snippet mark")
    assert len(marks) >= 5
    assert {m.text.lower()[:5] for m in marks} & {"maßna", "schul"}
    assert marks[0].value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"
    _full_page_screenshot(driver, web_output / "search.png")

    # Keyboard order: skip link, home link, search box, button, then the filters.
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    order = []
    for _ in range(5):
        element = driver.switch_to.active_element
        order.append(element.get_attribute("id") or element.get_attribute("class"))
        element.send_keys(Keys.TAB)
    assert order[:4] == ["skip-link", "brand", "q", "search-form__button"], order
    assert order[4].startswith("facet__link"), order
    assert _args(driver.current_url) == {"q": QUERY}
    assert driver.find_element(By.ID, "q").get_attribute("value") == QUERY
    # One click on a facet filters …
    facet = next(a for a in driver.find_elements(By.CSS_SELECTOR, "a.facet__link")
                 if _args(a.get_attribute("href")).get("source") == "tagesspiegel.de")
    facet.click()
    _wait_for_url(driver, lambda a: a.get("source") == "tagesspiegel.de", "the source filter")
    chip = driver.find_element(By.CSS_SELECTOR, "a.chip")
    assert "tagesspiegel.de" in chip.text

    # … and a bar of the histogram filters to its month (the one with most matches).
    bars = driver.find_elements(By.CSS_SELECTOR, "svg.histogram__chart a.histogram__bar")
    assert len(bars) >= 3

    def matches(bar):
        return int(re.search(r": ([\d.]+) Treffer", bar.get_attribute("aria-label")).group(1).replace(".", ""))

    tallest = max(bars, key=matches)
    month = tallest.get_attribute("data-key")
    tallest.click()
    _wait_for_url(driver, lambda a: a.get("from") == month and a.get("to") == month, "the month filter")
    assert _args(driver.current_url)["source"] == "tagesspiegel.de"
    active = driver.find_element(By.CSS_SELECTOR, "a.histogram__bar.is-active")
    assert active.get_attribute("data-key") == month

    # Page forward: every filter stays.
    driver.find_element(By.CSS_SELECTOR, "a[rel=next]").click()
    _wait_for_url(driver, lambda a: a.get("page") == "2", "page 2")
    assert _args(driver.current_url) == {"q": QUERY, "source": "tagesspiegel.de", "from": month,
                                         "to": month, "page": "2"}
    current = driver.find_element(By.CSS_SELECTOR, ".pagination__page[aria-current=page]")
    assert current.text == "2"
    hits = driver.find_elements(By.CSS_SELECTOR, "ol.hits li.hit")
    assert hits
    assert all("tagesspiegel.de" in hit.find_element(By.CSS_SELECTOR, ".meta").text for hit in hits)
    _full_page_screenshot(driver, web_output / "search-filtered-page-2.png")

    # A second click on the chosen bar removes the month again.
    driver.find_element(By.CSS_SELECTOR, "a.histogram__bar.is-active").click()
    _wait_for_url(driver, lambda a: "from" not in a and a.get("source") == "tagesspiegel.de",
                  "no month filter")
    driver.back()
    _wait_for_url(driver, lambda a: a.get("page") == "2", "page 2 again")

    # Open an article: the query's words are marked there too.
    first = driver.find_element(By.CSS_SELECTOR, ".hit__title a")
    title = first.text
    first.click()
    heading = wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "h1.article__title")))
    assert heading.text == title
    assert urlsplit(driver.current_url).path.startswith("/artikel/")
    assert driver.find_elements(By.CSS_SELECTOR, ".article__body mark")
    assert len(driver.find_elements(By.CSS_SELECTOR, ".related__list li")) == 5
    original = driver.find_element(By.CSS_SELECTOR, ".article__original a")
    assert original.get_attribute("href").startswith("https://")
    _full_page_screenshot(driver, web_output / "article.png")

    # The narrow layout (phone width) has no sideways scrolling.
    driver.get(web_server.url + "/?q=" + QUERY)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    widths = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == 390, widths
    _full_page_screenshot(driver, web_output / "search-mobile.png", width=390, mobile=True)

    assert not _console_errors(driver), _console_errors(driver)
    for name in ("search.png", "search-filtered-page-2.png", "article.png", "search-mobile.png"):
        assert (web_output / name).stat().st_size > 10_000


def test_everything_works_without_javascript(web_server, tmp_path):
    profile = tmp_path / "profile-nojs"
    profile.mkdir()
    driver = _browser(profile, javascript=False)
    try:
        driver.get(web_server.url + "/")
        box = driver.find_element(By.ID, "q-start")
        box.send_keys("Corona", Keys.ENTER)
        WebDriverWait(driver, WAIT_SECONDS).until(
            ready.presence_of_element_located((By.CSS_SELECTOR, "ol.hits li.hit")))
        facet = next(a for a in driver.find_elements(By.CSS_SELECTOR, "a.facet__link")
                     if "source" in _args(a.get_attribute("href")))
        facet.click()
        _wait_for_url(driver, lambda a: "source" in a, "a source filter")
        driver.find_element(By.CSS_SELECTOR, "a.sort__link:not(.is-current)").click()
        _wait_for_url(driver, lambda a: a.get("sort") == "date", "sorted by date")
        driver.find_element(By.CSS_SELECTOR, "a[rel=next]").click()
        _wait_for_url(driver, lambda a: a.get("page") == "2" and a.get("sort") == "date", "page 2")
        driver.find_element(By.CSS_SELECTOR, ".hit__title a").click()
        WebDriverWait(driver, WAIT_SECONDS).until(
            ready.presence_of_element_located((By.CSS_SELECTOR, "h1.article__title")))
    finally:
        driver.quit()


def test_a_total_that_is_a_lower_bound_reads_at_least(web_index_dir, web_start_server,
                                                      browser, web_output):
    """A search out of its time budget counts only the matches found by then: the page
    says "mindestens N Treffer" (at least), in Chromium."""
    server = web_start_server("--index", web_index_dir, "--setting",
                              "search_time_budget_seconds", "1e-9")
    browser.get(server.url + "/?q=Corona+OR+Covid+OR+Pandemie")
    count = WebDriverWait(browser, WAIT_SECONDS).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, ".results__count strong")))
    assert re.fullmatch(r"mindestens [\d.]+ Treffer", count.text), count.text
    assert count.get_attribute("data-total-estimate") == "1"
    assert browser.find_elements(By.CSS_SELECTOR, "ol.hits li.hit")
    _full_page_screenshot(browser, web_output / "search-at-least.png")
