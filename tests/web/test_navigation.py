"""Moving between the pages keeps the reader's place, in headless Chromium on the live server.

An article opened from a result page links back to exactly that page (query,
filters, sort, page), also after "Ohne Hervorhebung lesen"; a new query from the
header starts afresh unless "Filter beibehalten" is ticked; titles, the
statistics page and the error texts say where the reader is.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, quote, urlsplit

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

WAIT_SECONDS = 20


def args(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def open_page(driver, url: str):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    driver.get(url)


def click_and_wait(driver, element, css: str):
    """Click a link and wait for the next page (an element of it that matches ``css``)."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait = WebDriverWait(driver, WAIT_SECONDS)
    wait.until(ready.staleness_of(old))
    return wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, css)))


def api(web_server, path: str) -> dict:
    status, _, body = web_server.get(path)
    assert status == 200, (path, status)
    return json.loads(body)


def test_back_link_returns_to_the_exact_result_page(web_server, chromium, web_output):
    driver = chromium
    open_page(driver, web_server.url + "/?q=Impfung")
    # Filter, sort and page by clicking, as a reader does.
    source = next(a for a in driver.find_elements(By.CSS_SELECTOR, "a.facet__link")
                  if ("source", "zeit.de") in args(a.get_attribute("href")))
    click_and_wait(driver, source, "a.chip")
    by_date = next(a for a in driver.find_elements(By.CSS_SELECTOR, "a.sort__link")
                   if "Datum" in a.text)
    click_and_wait(driver, by_date, "a.sort__link.is-current")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "a[rel=next]"), "ol.hits")
    results = driver.current_url
    assert dict(args(results)) == {"q": "Impfung", "source": "zeit.de", "sort": "date", "page": "2"}
    first = driver.find_element(By.CSS_SELECTOR, ".hit__title a")
    title = first.text

    click_and_wait(driver, first, "h1.article__title")
    assert driver.find_element(By.CSS_SELECTOR, "h1.article__title").text == title
    assert driver.find_elements(By.CSS_SELECTOR, ".article__body mark")
    back = driver.find_element(By.CSS_SELECTOR, ".back a")
    assert back.get_attribute("href") == results
    driver.save_screenshot(str(web_output / "article-with-way-back.png"))

    # Reading without highlighting keeps the way back and the query in the box.
    plain = next(a for a in driver.find_elements(By.CSS_SELECTOR, ".notice a")
                 if a.text == "Ohne Hervorhebung lesen")
    click_and_wait(driver, plain, "h1.article__title")
    assert not driver.find_elements(By.CSS_SELECTOR, ".article__body mark")
    assert driver.find_element(By.CSS_SELECTOR, ".back a").get_attribute("href") == results
    assert driver.find_element(By.ID, "q").get_attribute("value") == "Impfung"
    driver.save_screenshot(str(web_output / "article-plain.png"))
    # … and the marks come back with one click.
    marked = next(a for a in driver.find_elements(By.CSS_SELECTOR, ".notice a")
                  if "hervorheben" in a.text)
    click_and_wait(driver, marked, "h1.article__title")
    assert driver.find_elements(By.CSS_SELECTOR, ".article__body mark")

    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, ".back a"), "ol.hits")
    assert driver.current_url == results
    assert driver.find_element(By.CSS_SELECTOR, ".hit__title a").text == title


def test_two_sources_chosen_by_clicks(web_server, chromium, web_output):
    driver = chromium
    open_page(driver, web_server.url + "/?q=Impfung")

    def source_link(name):
        return next(a for a in driver.find_elements(By.CSS_SELECTOR, "a.facet__link")
                    if a.find_element(By.CSS_SELECTOR, ".facet__label").text == name)

    def count(name):
        text = source_link(name).find_element(By.CSS_SELECTOR, ".facet__count").text
        return int(re.search(r"[\d.]+", text).group().replace(".", ""))

    counts = {name: count(name) for name in ("zeit.de", "tagesspiegel.de", "sueddeutsche.de")}
    click_and_wait(driver, source_link("zeit.de"), "a.chip")
    # The other sources stay, with their counts, one click away.
    assert {name: count(name) for name in counts} == counts
    click_and_wait(driver, source_link("tagesspiegel.de"), "a.chip")
    assert sorted(v for k, v in args(driver.current_url) if k == "source") == [
        "tagesspiegel.de", "zeit.de"]
    total = int(driver.find_element(By.CSS_SELECTOR, ".results__count strong").text.split()[0]
                .replace(".", ""))
    assert total == counts["zeit.de"] + counts["tagesspiegel.de"]
    assert "Quelle: zeit.de oder tagesspiegel.de" in driver.title
    assert len(driver.find_elements(By.CSS_SELECTOR, ".facet__link.is-active")) == 2
    driver.save_screenshot(str(web_output / "two-sources-1280.png"))
    # A chip takes out its own source only.
    chip = next(a for a in driver.find_elements(By.CSS_SELECTOR, "a.chip") if "zeit.de" in a.text)
    click_and_wait(driver, chip, "ol.hits")
    assert [v for k, v in args(driver.current_url) if k == "source"] == ["tagesspiegel.de"]


def test_article_page_shows_the_article_whatever_the_search_parameters(web_server):
    hit = api(web_server, "/api/search?q=Impfung")["hits"][0]
    status, _, body = web_server.get(f"/artikel/{quote(hit['id'])}?q=Impfung&page=0&sort=nope")
    html = body.decode()
    assert status == 200
    assert 'href="/?q=Impfung"' in html  # the way back, without what did not parse
    status, _, body = web_server.get(f"/artikel/{quote(hit['id'])}")
    assert status == 200 and "Zurück zu den Treffern" not in body.decode()


def test_new_query_from_the_header_starts_clean(web_server, chromium):
    driver = chromium
    start = "/?q=Impfung&source=zeit.de&sort=date&from=2020-03&to=2020-03"
    open_page(driver, web_server.url + start)
    keep = driver.find_element(By.ID, "keep")
    assert not keep.is_selected()
    label = driver.find_element(By.CSS_SELECTOR, "label[for=keep]").text
    assert label == "Filter und Sortierung beibehalten"
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys("Schule", Keys.ENTER)
    WebDriverWait(driver, WAIT_SECONDS).until(lambda d: "Schule" in d.current_url)
    assert args(driver.current_url) == [("q", "Schule")]
    assert not driver.find_elements(By.CSS_SELECTOR, "a.chip")
    assert not driver.find_elements(By.ID, "keep")  # nothing to keep now

    # Ticked, every filter and the sort stay.
    open_page(driver, web_server.url + start)
    driver.find_element(By.CSS_SELECTOR, "label[for=keep]").click()
    assert driver.find_element(By.ID, "keep").is_selected()
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys("Schule", Keys.ENTER)
    WebDriverWait(driver, WAIT_SECONDS).until(lambda d: "Schule" in d.current_url)
    assert dict(args(driver.current_url)) == {"q": "Schule", "sort": "date", "source": "zeit.de",
                                               "from": "2020-03", "to": "2020-03"}
    assert len(driver.find_elements(By.CSS_SELECTOR, "a.chip")) == 2


def test_keep_takes_only_zero_or_one(web_server):
    status, headers, _ = web_server.get("/?q=Impfung&keep=ja")
    assert status == 400 and headers["Content-Type"].startswith("text/html")


def test_titles_say_query_filters_and_page(web_server, chromium):
    driver = chromium
    open_page(driver, web_server.url + "/?q=Impfung")
    total = api(web_server, "/api/search?q=Impfung")["total"]
    pages = -(-total // 10)
    assert driver.title == f"„Impfung“ – Seite 1 von {pages} – Suche – newssearch"
    open_page(driver, web_server.url + "/?q=Impfung&source=zeit.de&sort=date&page=2"
                                       "&from=2020-11&to=2020-12")
    assert re.fullmatch(r"„Impfung“ – Quelle: zeit\.de – Zeitraum: November 2020 – Dezember 2020"
                        r" – sortiert nach Datum – Seite 2 von \d+ – Suche – newssearch",
                        driver.title), driver.title
    open_page(driver, web_server.url + "/?q=Xylophonquartettzauber&lang=de")
    assert driver.title == ("„Xylophonquartettzauber“ – Sprache: Deutsch – keine Treffer – "
                            "Suche – newssearch")


def test_spelling_suggestion_is_shown_once(web_server, chromium):
    open_page(chromium, web_server.url + "/?q=Impfnug")
    text = chromium.find_element(By.TAG_NAME, "main").text
    assert text.count("Meinten Sie") == 1, text
    assert len(chromium.find_elements(By.PARTIAL_LINK_TEXT, "Impfung")) == 1


def test_statistics_page_is_the_twin_of_the_json(web_server, chromium, web_output):
    driver = chromium
    open_page(driver, web_server.url + "/?q=Impfung")
    link = next(a for a in driver.find_elements(By.CSS_SELECTOR, ".site-footer a")
                if a.text == "Index-Statistik")
    click_and_wait(driver, link, "h1")
    assert urlsplit(driver.current_url).path == "/statistik"
    assert driver.find_element(By.TAG_NAME, "h1").text == "Index-Statistik"
    stats = api(web_server, "/api/stats")

    def table(section_id):
        rows = driver.find_elements(By.CSS_SELECTOR, f"section[aria-labelledby={section_id}] tbody tr")
        return {r.find_element(By.TAG_NAME, "th").text: int(r.find_element(By.TAG_NAME, "td")
                                                           .text.replace(".", ""))
                for r in rows}

    assert table("stats-sources") == stats["sources"]
    assert table("stats-categories") == stats["categories"]
    names = {"de": "Deutsch", "en": "Englisch", "fr": "Französisch"}
    assert table("stats-languages") == {names[code]: n for code, n in stats["languages"].items()}
    facts = driver.find_element(By.CSS_SELECTOR, ".stats__facts").text
    assert f"{stats['documents']:,}".replace(",", ".") in facts
    twin = driver.find_element(By.CSS_SELECTOR, ".stats__lead a")
    assert urlsplit(twin.get_attribute("href")).path == "/api/stats"
    driver.save_screenshot(str(web_output / "statistics-1280.png"))


def test_not_found_text_fits_the_path(web_server):
    status, _, body = web_server.get("/artikel/gibt-es-nicht")
    article = body.decode()
    assert status == 404 and "Diesen Artikel gibt es im Index nicht" in article
    status, _, body = web_server.get("/nirgendwo")
    page = body.decode()
    assert status == 404 and "Artikel" not in page.split("<main")[1].split("</main>")[0]
    assert "Unter dieser Adresse gibt es keine Seite" in page
