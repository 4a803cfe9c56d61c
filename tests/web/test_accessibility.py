"""The pages as a keyboard user and a screen reader meet them, in headless Chromium.

axe-core itself (the npm package, injected through selenium) checks every page
type against WCAG 2.1 A and AA at a phone's and a desktop's width. Keyboard
walks press Tab and Shift+Tab through a result page and check, at every stop,
where the focus is, that its ring can be seen (3:1 against what surrounds it)
and that it is inside the window, below the sticky header and not clipped.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

WIDTHS = (390, 1280)
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
QUERY = "Impfung"
# Five months, three sources, one language: enough filters for the walk, and more
# than one page of hits with the source filter on.
FILTERED = f"/?q={QUERY}&source=zeit.de&sort=date"

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(r => done({version: axe.version, passes: r.passes.length,
                   violations: r.violations.map(v => ({id: v.id, impact: v.impact,
                     nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))}))
  .catch(e => done({error: String(e)}));
"""

# What the focused element looks like: where it is, its ring and what lies behind the ring.
FOCUS_STATE = """
const el = document.activeElement;
const ringOf = el.matches('.search-form__input') ? el.closest('.search-form__field') : el;
const ring = getComputedStyle(ringOf);
function background(node) {
  for (; node && node.nodeType === 1; node = node.parentElement) {
    const color = getComputedStyle(node).backgroundColor;
    if (color && color !== 'transparent' && !/rgba\\(.*, 0\\)$/.test(color)) return color;
  }
  return 'rgb(255, 255, 255)';
}
const offset = parseFloat(ring.outlineOffset) || 0;
const behind = background(offset < 0 ? ringOf : ringOf.parentElement);
const rect = el.getBoundingClientRect();
const header = document.querySelector('.site-header');
const sticky = ['sticky', 'fixed'].includes(getComputedStyle(header).position);
let clipped = null;
for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
  const style = getComputedStyle(node);
  if (style.overflowX !== 'visible' || style.overflowY !== 'visible') {
    const box = node.getBoundingClientRect();
    if (rect.left < box.left - 1 || rect.right > box.right + 1 || rect.top < box.top - 1
        || rect.bottom > box.bottom + 1) clipped = node.className;
  }
}
// Whatever lies on top of the control's top and bottom edge (the header, say) covers it.
const x = Math.min(Math.max((rect.left + rect.right) / 2, 0), window.innerWidth - 1);
const covered = [rect.top + 2, rect.bottom - 2].map(y => document.elementFromPoint(x, y))
  .filter(top => !(top && (top === el || el.contains(top) || top.contains(el))))
  .map(top => top ? top.tagName + '.' + top.className : 'outside the window');
const inHeader = !!el.closest('.site-header') || el.matches('.skip-link');
return {
  covered: covered, inHeader: inHeader,
  kind: el.matches('.skip-link') ? 'skip' : el.matches('.brand') ? 'brand'
      : el.matches('.search-form__input') ? 'query' : el.matches('.search-form__button') ? 'button'
      : el.matches('#keep') ? 'keep' : el.matches('.facet__link') ? 'facet'
      : el.matches('summary') ? 'more' : el.matches('.sort__link') ? 'sort'
      : el.matches('.chip, .chips__clear') ? 'chip' : el.matches('.histogram__bar') ? 'bar'
      : el.matches('.study-links a') ? 'study' : el.matches('.results__collapse') ? 'folded'
      : el.matches('.also-at a') ? 'also'
      : el.matches('.hit__title a') ? 'hit' : el.matches('.pagination a') ? 'page'
      : el.matches('.site-footer a') ? 'footer' : el.tagName + '.' + el.className,
  text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 60),
  outline: [ring.outlineStyle, parseFloat(ring.outlineWidth) || 0, ring.outlineColor],
  behind: behind,
  top: rect.top, bottom: rect.bottom, left: rect.left, right: rect.right,
  headerBottom: sticky ? header.getBoundingClientRect().bottom : 0,
  width: window.innerWidth, height: window.innerHeight, clipped: clipped,
};
"""


# -- helpers -----------------------------------------------------------------------


def set_width(driver, width: int, height: int = 800):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def screenshot(driver, path, full: bool = True):
    """The window, or the whole page (up to 4,000 pixels) with ``full``."""
    metrics = driver.execute_script("return [innerWidth, innerHeight, "
                                    "document.documentElement.scrollHeight]")
    if full:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": metrics[0], "height": min(metrics[2], 4000), "deviceScaleFactor": 1,
            "mobile": metrics[0] < 600})
    driver.save_screenshot(str(path))
    set_width(driver, metrics[0], metrics[1])
    assert path.stat().st_size > 10_000, path


def rgb(text: str) -> tuple[float, float, float]:
    values = [float(v) for v in re.findall(r"[\d.]+", text)[:3]]
    assert len(values) == 3, text
    return tuple(values)


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS colours."""
    def luminance(color):
        channels = [c / 255 for c in rgb(color)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def focus_state(driver) -> dict:
    return driver.execute_script(FOCUS_STATE)


def press(driver, *keys):
    ActionChains(driver).send_keys(*keys).perform()


def assert_focus_seen(state: dict):
    """The focused control has a ring of 3:1 and is whole inside the window, below the header."""
    style, width, color = state["outline"]
    assert style not in ("none", "hidden") and width >= 2, state
    assert contrast(color, state["behind"]) >= 3, (contrast(color, state["behind"]), state)
    assert not state["covered"], ("covered", state)
    if not state["inHeader"]:
        assert state["top"] >= state["headerBottom"] - 1, ("under the header", state)
    assert state["bottom"] <= state["height"] + 1, ("below the window", state)
    assert state["left"] >= -1 and state["right"] <= state["width"] + 1, ("beside the window", state)
    assert state["clipped"] is None, ("clipped by its scrolling row", state)


def walk(driver, steps: int, backwards: bool = False) -> list[dict]:
    """Press Tab (or Shift+Tab) ``steps`` times; the focus state after each press."""
    states = []
    for _ in range(steps):
        if backwards:
            ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        else:
            press(driver, Keys.TAB)
        states.append(focus_state(driver))
    return states


def first_hit_id(web_server, query: str, **args) -> str:
    extra = "".join(f"&{k}={quote(v)}" for k, v in args.items())
    status, _, body = web_server.get(f"/api/search?q={quote(query)}{extra}")
    assert status == 200
    return json.loads(body)["hits"][0]["id"]


# -- axe-core ---------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_no_wcag_violations(web_server, chromium, axe_source, width, web_output):
    article = first_hit_id(web_server, QUERY, source="zeit.de")
    pages = {
        "start": "/",
        "results": f"/?q={QUERY}",
        "filtered results": f"{FILTERED}&page=2",
        "two sources and a month": f"/?q={QUERY}&source=zeit.de&source=tagesspiegel.de"
                                   "&from=2020-03&to=2020-03",
        "no hits": "/?q=Xylophonquartettzauber&source=zeit.de",
        "spelling suggestion": "/?q=Impfnug",
        "article": f"/artikel/{quote(article)}?q={QUERY}&source=zeit.de&sort=date",
        "article without highlighting": f"/artikel/{quote(article)}?q={QUERY}&hl=0",
        "statistics": "/statistik",
        "error (unknown page)": "/nirgendwo",
        "error (unknown article)": "/artikel/gibt-es-nicht",
        "error (invalid parameter)": "/?q=Corona&page=0",
    }
    set_width(chromium, width)
    found = {}
    for name, path in pages.items():
        chromium.get(web_server.url + path)
        assert chromium.find_element(By.TAG_NAME, "h1"), name
        chromium.execute_script(axe_source)
        result = chromium.execute_async_script(RUN_AXE, WCAG_TAGS)
        assert "error" not in result, (name, result)
        assert result["version"].startswith("4."), result["version"]
        assert result["passes"] >= 10, (name, result)  # axe did look at the page
        if result["violations"]:
            found[name] = result["violations"]
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


# -- keyboard ---------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_keyboard_walk_sees_every_stop(web_server, chromium, width, web_output):
    set_width(chromium, width, 720)
    chromium.get(web_server.url + FILTERED)
    counts = chromium.execute_script("""return {
        facets: document.querySelectorAll('.facets .facet__link').length
              - document.querySelectorAll('.facets details .facet__link').length,
        more: document.querySelectorAll('.facets summary').length,
        hits: document.querySelectorAll('.hit__title a').length,
        also: Array.from(document.querySelectorAll('.hit'),
                         hit => hit.querySelectorAll('.also-at a').length),
        study: document.querySelectorAll('.study-links a').length,
        folded: document.querySelectorAll('.results__collapse').length,
        pages: document.querySelectorAll('.pagination a').length}""")
    assert counts["hits"] == 10 and counts["pages"] >= 2 and counts["study"] == 5, counts
    # Each hit's title, then the links to the versions it stands for ("Auch bei").
    hits = [kind for also in counts["also"] for kind in ["hit"] + ["also"] * also]
    between = ["study"] * counts["study"] + ["folded"] * counts["folded"]
    expected = (["skip", "brand", "query", "button", "keep"]
                + ["facet"] * counts["facets"] + ["more"] * counts["more"]
                + ["sort", "sort"] + between + ["chip"] + hits
                + ["page"] * counts["pages"] + ["footer", "footer"])
    forward = walk(chromium, len(expected))
    assert [s["kind"] for s in forward] == expected, [(s["kind"], s["text"]) for s in forward]
    # The month bars repeat the month list: no Tab stop of their own.
    assert "bar" not in {s["kind"] for s in forward}
    for state in forward:
        assert_focus_seen(state)

    # Back up from the footer through the pages and the hits: each title comes out from
    # under the sticky header as it gets the focus.
    backward = walk(chromium, 1 + counts["pages"] + len(hits) + 1 + len(between) + 2,
                    backwards=True)
    tail = ["chip"] + between[::-1] + ["sort", "sort"]
    assert [s["kind"] for s in backward][-len(tail):] == tail
    for state in backward:
        assert_focus_seen(state)

    # A focus on a hit, seen, for the eye.
    walk(chromium, 1 + len(between) + 2)
    assert focus_state(chromium)["kind"] == "hit"
    screenshot(chromium, web_output / f"keyboard-focus-{width}.png", full=False)


def test_skip_link_leads_to_the_hits(web_server, chromium):
    set_width(chromium, 1280, 720)
    chromium.get(web_server.url + f"/?q={QUERY}")
    first = walk(chromium, 1)[0]
    assert first["kind"] == "skip" and first["text"] == "Zu den Treffern springen"
    assert_focus_seen(first)
    press(chromium, Keys.ENTER)
    after = walk(chromium, 1)[0]
    assert after["kind"] == "hit", after
    # the focus state holds the first 60 characters of an element's text
    title = chromium.find_element(By.CSS_SELECTOR, ".hit__title a").text.strip()
    assert after["text"] == title[:60]
    assert_focus_seen(after)


@pytest.mark.parametrize("width", WIDTHS)
def test_search_button_is_named_at_every_width(web_server, chromium, width):
    set_width(chromium, width)
    for path in ("/", f"/?q={QUERY}"):
        chromium.get(web_server.url + path)
        button = chromium.find_element(By.CSS_SELECTOR, ".search-form__button")
        assert button.accessible_name == "Suchen", (path, width)
        label = button.find_element(By.CSS_SELECTOR, ".search-form__button-label")
        shown = chromium.execute_script(
            "const s = getComputedStyle(arguments[0]); const r = arguments[0].getBoundingClientRect();"
            "return [s.display, r.width > 2]", label)
        assert shown[0] != "none"
        assert shown[1] is (width > 860), (path, width, shown)


def test_focused_histogram_bar_differs_from_a_chosen_one(web_server, chromium):
    """The focus frames a bar, the choice fills it: the two never look alike. (Month bars are
    out of the Tab order; year bars, for spans too long for months, take the focus.)"""
    set_width(chromium, 1280)
    chromium.get(web_server.url + f"/?q={QUERY}&from=2020-03&to=2020-03")
    chosen = chromium.find_element(By.CSS_SELECTOR, ".histogram__bar.is-active")
    other = next(b for b in chromium.find_elements(By.CSS_SELECTOR, ".histogram__bar")
                 if "is-active" not in b.get_attribute("class"))
    chromium.execute_script("arguments[0].setAttribute('tabindex', '0')", other)
    press(chromium, Keys.TAB)  # keyboard modality, so that :focus-visible applies
    chromium.execute_script("arguments[0].focus()", other)
    style = """const a = arguments[0]; const hit = getComputedStyle(a.querySelector('.histogram__hit'));
               const fill = getComputedStyle(a.querySelector('.histogram__fill'));
               return [hit.stroke, parseFloat(hit.strokeWidth), fill.fill]"""
    focused = chromium.execute_script(style, other)
    selected = chromium.execute_script(style, chosen)
    assert focused[1] >= 2 and contrast(focused[0], "rgb(255, 255, 255)") >= 3, focused
    assert focused[2] != selected[2], (focused, selected)


# -- the German reader and the 390 px phone ------------------------------------------


def test_language_names_are_german_words():
    """Every language langdetect can name shows as a German word, never as a bare code."""
    from importlib import resources

    from web.present import language

    codes = sorted(p.name for p in resources.files("langdetect").joinpath("profiles").iterdir())
    assert len(codes) >= 50, codes
    for code in codes:
        name = language(code)
        assert name[:1].isupper() and name.lower() != code.lower(), (code, name)
        assert "Sprachcode" not in name, (code, name)
    assert language("vi") == "Vietnamesisch" and language("VI") == "Vietnamesisch"
    assert language("zh-cn") == "Chinesisch"
    assert language("xx") == "Sprachcode „xx“"


def test_phone_layout(web_server, chromium, web_output):
    set_width(chromium, 390, 844)
    chromium.get(web_server.url + "/")
    # The placeholder of the search box fits the box.
    fits = chromium.execute_script("""
        const box = document.querySelector('#q-start'); const s = getComputedStyle(box);
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = s.font;
        const room = box.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
        return [ctx.measureText(box.placeholder).width, room]""")
    assert fits[0] <= fits[1], fits
    screenshot(chromium, web_output / "start-390.png")

    # No hits: no empty filter box above the message.
    chromium.get(web_server.url + "/?q=Xylophonquartettzauber")
    assert not chromium.find_element(By.CSS_SELECTOR, ".facets").is_displayed()
    empty = chromium.find_element(By.CSS_SELECTOR, ".empty").rect
    assert empty["y"] < 300, empty
    screenshot(chromium, web_output / "no-hits-390.png")

    # The disabled "‹ Zurück" on page 1 is readable (4.5:1).
    chromium.get(web_server.url + FILTERED)
    disabled = chromium.find_element(By.CSS_SELECTOR, ".pagination__step.is-disabled")
    colors = chromium.execute_script(
        "const s = getComputedStyle(arguments[0]); let n = arguments[0];"
        "while (getComputedStyle(n).backgroundColor === 'rgba(0, 0, 0, 0)') n = n.parentElement;"
        "return [s.color, getComputedStyle(n).backgroundColor]", disabled)
    assert contrast(*colors) >= 4.5, colors
    widths = chromium.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1], widths
    screenshot(chromium, web_output / "results-390.png")


def test_histogram_runs_like_the_month_list(web_server, chromium):
    set_width(chromium, 1280)
    chromium.get(web_server.url + "/?q=Regierung")
    bars = [b.get_attribute("data-key")
            for b in chromium.find_elements(By.CSS_SELECTOR, ".histogram__bar")]
    months = chromium.execute_script("""
        return [...document.querySelectorAll('section[aria-labelledby=facet-month] .facet__link')]
          .map(a => new URL(a.href).searchParams.get('from'))""")
    assert len(bars) >= 9 and len(months) == len(set(months)) >= 9, (bars, months)
    assert bars == sorted(bars) and months == sorted(months), (bars, months)
    assert set(months) == set(bars)
    # The older months fold away above the newest ones, which show.
    summary = chromium.find_element(By.CSS_SELECTOR, ".facet__more--earlier summary")
    assert re.fullmatch(r"\d+ frühere", summary.text), summary.text
    shown = [a for a in chromium.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=facet-month] .facet__link")
             if a.is_displayed()]
    assert months[-len(shown):] == [
        re.search(r"from=([\d-]+)", a.get_attribute("href")).group(1) for a in shown]


def test_filter_column_never_scrolls_on_its_own(web_server, chromium, web_output):
    """At 1280 x 720 with every folded list open, the filter column is taller than the window:
    it then scrolls with the page and has no scroll bar of its own; a short one stays in view."""
    set_width(chromium, 1280, 720)
    chromium.get(web_server.url + "/?q=Regierung")
    for summary in chromium.find_elements(By.CSS_SELECTOR, ".facets summary"):
        summary.click()
    state = "const f = document.querySelector('.facets'); const s = getComputedStyle(f);" \
            "return [f.scrollHeight, f.clientHeight, s.overflowY, s.position, f.getBoundingClientRect().top]"
    height, client, overflow, position, top = chromium.execute_script(state)
    assert height > 720 and overflow == "visible" and height <= client + 1, (height, client, overflow)
    assert position == "static", position
    chromium.execute_script("window.scrollTo(0, 400)")
    moved = chromium.execute_script(state)
    assert moved[4] == pytest.approx(top - 400, abs=2), (top, moved)
    screenshot(chromium, web_output / "facets-open-1280.png", full=False)

    chromium.get(web_server.url + FILTERED)
    chromium.execute_script("window.scrollTo(0, 600)")
    short = chromium.execute_script(state)
    assert short[3] == "sticky" and 0 < short[4] < 200, short
