"""Hostile payloads in the browser: never executed, never unescaped, on any page.

Articles whose titles, texts, sources, categories and URLs carry script
payloads (see ``support.payloads.PAYLOADS``) are indexed in every input
format and served by ``newssearch serve``; headless Chromium opens every page
that shows them (results, filters, article pages, the start page, error pages,
queries that echo a payload). On each page: no alert, ``window.__pwned``
unset, no element a payload could have injected, no inline script blocked by
the Content-Security-Policy (which would mean one got through the escaping),
and the payload visible as text where the page shows it.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from support.payloads import PAYLOAD_WORD, PAYLOADS

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# Everything a payload could leave in the DOM if it had been inserted as markup.
INJECTED = """
const found = [];
for (const el of document.querySelectorAll('*')) {
  for (const attr of el.getAttributeNames()) {
    if (attr.toLowerCase().startsWith('on')) found.push(el.tagName + ' ' + attr);
  }
}
for (const el of document.querySelectorAll('#injected, iframe, frame, object, embed, base'))
  found.push(el.tagName + (el.id ? '#' + el.id : ''));
for (const el of document.querySelectorAll('script')) {
  const src = el.getAttribute('src') || '';
  if (!src.startsWith('/static/')) found.push('SCRIPT ' + (src || el.textContent.slice(0, 60)));
}
for (const el of document.querySelectorAll('[href], [src], [action], [formaction]')) {
  for (const name of ['href', 'src', 'action', 'formaction']) {
    const value = (el.getAttribute(name) || '').replace(/[\\s\\x00-\\x1f]/g, '').toLowerCase();
    if (value.startsWith('javascript:') || value.startsWith('data:text') || value.startsWith('vbscript:'))
      found.push(el.tagName + ' ' + name + '=' + value.slice(0, 40));
  }
}
return found;
"""


@pytest.fixture(scope="module")
def site(payload_index, payload_server, tmp_path_factory):
    return {"server": payload_server, "ids": payload_index.ids,
            "base": tmp_path_factory.mktemp("browser")}


@pytest.fixture(scope="module")
def browser(site):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            pytest.fail(f"{path} is missing: install Debian's chromium and chromium-driver "
                        f"(.ci/run does)", pytrace=False)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = site["base"] / "chromium-profile"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _pages(site) -> list[str]:
    """Every page that shows a payload: results, filters by payload values, articles, echoes."""
    pages = [
        "/?" + urlencode({"q": PAYLOAD_WORD}),
        "/?" + urlencode({"q": PAYLOAD_WORD, "sort": "date", "per_page": 50}),
        "/?" + urlencode({"q": PAYLOAD_WORD, "source": PAYLOADS[0]}),
        "/?" + urlencode({"q": PAYLOAD_WORD, "category": PAYLOADS[1]}),
        "/?" + urlencode({"q": PAYLOAD_WORD, "lang": PAYLOADS[2], "from": "2021", "to": "2021"}),
        "/",
        "/?" + urlencode({"q": PAYLOAD_WORD[:-3] + "ter"}),  # "Meinten Sie" with the word
        "/?" + urlencode({"q": "nichtsfindbar " + PAYLOADS[1]}),
        "/?" + urlencode({"q": "Bundestag", "page": PAYLOADS[3]}),  # 400 page echoing it
        "/artikel/" + quote(PAYLOADS[1], safe="") + "?" + urlencode({"q": PAYLOADS[0]}),  # 404
    ]
    for query in PAYLOADS[:4]:
        pages.append("/?" + urlencode({"q": f"{PAYLOAD_WORD} {query}"}))
    for article_id in sorted(site["ids"]):
        pages.append(f"/artikel/{article_id}?" + urlencode({"q": f"{PAYLOAD_WORD} {PAYLOADS[0]}"}))
        pages.append(f"/artikel/{article_id}")
    return pages


@pytest.mark.slow
def test_payloads_never_run_nor_turn_into_markup(site, browser):
    from selenium.common.exceptions import NoAlertPresentException

    server = site["server"]
    shown_as_text = 0
    pages = _pages(site)
    for path in pages:
        browser.get(server.url + path)
        # Give an injected onerror/onload the moment it would need to fire.
        time.sleep(0.15)
        try:
            alert = browser.switch_to.alert
            text = alert.text
            alert.dismiss()
            raise AssertionError(f"an alert ({text!r}) on {path}")
        except NoAlertPresentException:
            pass
        assert browser.execute_script("return window.__pwned") is None, path
        injected = browser.execute_script(INJECTED)
        assert injected == [], (path, injected)
        blocked = [entry["message"] for entry in browser.get_log("browser")
                   if "Content Security Policy" in entry["message"]
                   or "Refused to" in entry["message"]]
        assert not blocked, (path, blocked)
        text = browser.execute_script("return document.body.innerText")
        if "onerror=" in text or "<script>" in text:
            shown_as_text += 1
    # The payloads are shown, as text, on the result page and on their article pages.
    assert shown_as_text >= len(site["ids"]), shown_as_text


@pytest.mark.slow
def test_payloads_come_back_escaped_from_the_api(site):
    server = site["server"]
    status, _, body = server.get("/api/search?" + urlencode({"q": PAYLOAD_WORD, "per_page": 50}))
    assert status == 200
    result = json.loads(body)
    assert result["total"] == len(site["ids"])
    for hit in result["hits"]:
        # JSON carries the text as it is; only the snippet is HTML, and it is escaped.
        assert "<script" not in hit["snippet"] and "<img" not in hit["snippet"], hit["snippet"]
    titles = " ".join(hit["title"] for hit in result["hits"])
    assert "<img src=x onerror=" in titles  # the API does not mangle the data
