"""The web app through Flask's test client: every page, every API route, every error."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from web import cli
from search import Engine, Settings, index_paths
from web import create_app

ODD_IDS = ("test:12", "a00p04", "edced858fe0a0ea0", "a/b c?d#e%f&g=h", "ünï-çødé", "x" * 200,
           "..", "quote\"and'<tag>")


# -- fixtures --------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(web_index_dir):
    return create_app({"INDEX_DIR": web_index_dir, "TESTING": True})


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def odd_index(tmp_path_factory):
    """A small index whose ids need quoting and whose texts try to inject markup."""
    folder = tmp_path_factory.mktemp("odd-corpus")
    records = []
    for number, article_id in enumerate(ODD_IDS):
        records.append({
            "id": article_id,
            "title": f"Sonderfall {number} <script>alert('t{number}')</script> Zaunkönig",
            "text": (f"Der Zaunkönig Nummer {number} singt im Garten. <img src=x onerror=alert(1)> "
                     f"und &amp; bleiben Text.\n\nZweiter Absatz über den Zaunkönig und Meisen."),
            "date": f"2021-0{number % 9 + 1}-15",
            "source": "Gartenblatt <b>fett</b>",
            "url": "javascript:alert(1)" if number == 0 else f"https://example.org/{number}",
        })
    (folder / "odd.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("odd-index")
    report = index_paths([folder], Settings(index_dir=index_dir))
    assert report.documents == len(ODD_IDS), report.to_dict()
    return index_dir


@pytest.fixture(scope="module")
def odd_client(odd_index):
    return create_app({"INDEX_DIR": odd_index, "TESTING": True}).test_client()


@pytest.fixture
def empty_client(tmp_path):
    return create_app({"INDEX_DIR": tmp_path / "no-index", "TESTING": True}).test_client()


# -- helpers ---------------------------------------------------------------------


class Page(HTMLParser):
    """The parts of a page the tests look at: links, elements with a class, attributes."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[dict, str]] = []
        self.elements: list[tuple[str, dict]] = []
        self._open_links: list[list] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "a":
            self._open_links.append([attributes, ""])

    def handle_endtag(self, tag):
        if tag == "a" and self._open_links:
            attributes, text = self._open_links.pop()
            self.links.append((attributes, " ".join(text.split())))

    def handle_data(self, data):
        for link in self._open_links:
            link[1] += data

    def links_with_class(self, name: str) -> list[tuple[dict, str]]:
        return [(a, t) for a, t in self.links if name in (a.get("class") or "").split()]

    def first(self, tag: str, **attributes) -> dict | None:
        for found, attrs in self.elements:
            if found == tag and all(attrs.get(k) == v for k, v in attributes.items()):
                return attrs
        return None


def args_of(href: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query, keep_blank_values=True).items()}


def page(client, url: str, status: int = 200) -> tuple[str, Page]:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.data[:500])
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    return html, Page(html)


def assert_error_json(response, status: int, code: str):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code and body["error"]["message"]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "File \"" not in text


# -- the factory -------------------------------------------------------------------


def test_factory_holds_no_globals(web_index_dir, odd_index):
    one = create_app({"INDEX_DIR": web_index_dir}).test_client()
    two = create_app({"SETTINGS": Settings(index_dir=odd_index, per_page=3)}).test_client()
    first = one.get("/api/search?q=Zaunkönig").get_json()
    second = two.get("/api/search?q=Zaunkönig").get_json()
    assert first["total"] == 0 and second["total"] == len(ODD_IDS)
    assert second["per_page"] == 3
    with pytest.raises(TypeError):
        create_app({"SETTINGS": "index"})


# -- search page -----------------------------------------------------------------


def test_start_page(client):
    html, parsed = page(client, "/")
    assert '<html lang="de">' in html
    assert "Nachrichten durchsuchen" in html
    assert parsed.first("label", **{"for": "q-start"}) is not None
    assert parsed.first("input", id="q-start", name="q") is not None
    assert re.search(r"[\d.]+ Artikel aus \d+ Quellen", html)


def test_search_page_shows_hits(client):
    html, parsed = page(client, "/?q=Impfung")
    assert re.search(r'<strong>[\d.]+ Treffer</strong> <span class="results__took">'
                     r"\(\d,\d{3} s\)</span>", html)
    box = parsed.first("input", id="q")
    assert box["value"] == "Impfung"
    assert parsed.first("label", **{"for": "q"}) is not None
    titles = [(a, t) for a, t in parsed.links if a.get("href", "").startswith("/artikel/")]
    assert len(titles) >= 10
    assert all(args_of(a["href"]) == {"q": "Impfung"} for a, _ in titles)
    assert html.count("<mark>") >= 10
    assert re.search(r"<mark>Impfung(en)?</mark>", html)
    assert "tagesspiegel.de" in html and "Deutsch" in html
    assert re.search(r'<time class="meta__item" datetime="2020-\d\d-\d\d">\d+\. \w+ 2020</time>', html)


def test_search_page_uses_the_api_dicts(client):
    api = client.get("/api/search?q=Impfung").get_json()
    html, parsed = page(client, "/?q=Impfung")
    shown = [urlsplit(a["href"]).path for a, _ in parsed.links
             if a.get("href", "").startswith("/artikel/")]
    assert shown == [f"/artikel/{hit['id']}" for hit in api["hits"]]
    assert f"{api['total']} Treffer" in html


def test_facets_toggle_with_counts(client):
    _, parsed = page(client, "/?q=Impfung&sort=date")
    facet_links = parsed.links_with_class("facet__link")
    assert facet_links
    sources = [(a, t) for a, t in facet_links if "source" in args_of(a["href"])]
    assert {args_of(a["href"])["source"] for a, _ in sources} >= {"zeit.de", "tagesspiegel.de"}
    zeit, text = next((a, t) for a, t in sources if args_of(a["href"])["source"] == "zeit.de")
    assert re.search(r"zeit\.de : \d+ Treffer", text)
    assert args_of(zeit["href"]) == {"q": "Impfung", "sort": "date", "source": "zeit.de"}

    # The second click removes the filter again.
    _, filtered = page(client, zeit["href"])
    active = [(a, t) for a, t in filtered.links_with_class("facet__link") if "is-active" in a["class"]]
    assert len(active) == 1 and active[0][0].get("aria-current") == "true"
    assert args_of(active[0][0]["href"]) == {"q": "Impfung", "sort": "date"}
    chip = filtered.links_with_class("chip")
    assert len(chip) == 1 and "zeit.de" in chip[0][1]
    assert args_of(chip[0][0]["href"]) == {"q": "Impfung", "sort": "date"}


def test_facet_groups_cover_month_source_language_category(client):
    html, _ = page(client, "/?q=Bundestag OR München OR Schule")
    for label in ("Zeitraum", "Quelle", "Sprache", "Rubrik"):
        assert f">{label}</h3>" in html


def test_month_facet_and_histogram_filter_to_a_month(client):
    _, parsed = page(client, "/?q=Corona")
    bars = parsed.links_with_class("histogram__bar")
    assert len(bars) >= 3
    bar = next(a for a, _ in bars if a["data-key"] == "2020-03")
    assert args_of(bar["href"]) == {"q": "Corona", "from": "2020-03", "to": "2020-03"}
    assert "Treffer" in bar["aria-label"]

    html, filtered = page(client, bar["href"])
    api = client.get("/api/search?q=Corona&from=2020-03&to=2020-03").get_json()
    assert f"{api['total']} Treffer" in html
    assert all(hit["date"].startswith("2020-03") for hit in api["hits"])
    # The histogram still shows the other months; the chosen bar removes the filter.
    again = filtered.links_with_class("histogram__bar")
    assert len(again) == len(bars)
    chosen = next(a for a, _ in again if a["data-key"] == "2020-03")
    assert "is-active" in chosen["class"] and args_of(chosen["href"]) == {"q": "Corona"}
    month = next(a for a, _ in filtered.links_with_class("facet__link") if "is-active" in a["class"])
    assert args_of(month["href"]) == {"q": "Corona"}


def test_sort_by_date(client):
    _, parsed = page(client, "/?q=Corona")
    by_date = next(a for a, t in parsed.links_with_class("sort__link") if "Datum" in t)
    assert args_of(by_date["href"]) == {"q": "Corona", "sort": "date"}
    api = client.get("/api/search?q=Corona&sort=date&per_page=50").get_json()
    dates = [hit["date"][:10] for hit in api["hits"] if hit["date"]]
    assert dates == sorted(dates, reverse=True)
    _, sorted_page = page(client, by_date["href"])
    current = next(a for a, _ in sorted_page.links_with_class("sort__link") if "is-current" in a["class"])
    labels = {a["href"]: t for a, t in sorted_page.links_with_class("sort__link")}
    assert "Datum" in labels[current["href"]]


def test_pagination_keeps_every_filter(client):
    url = "/?q=Corona&sort=date&source=tagesspiegel.de&lang=de&from=2020&to=2020-12&per_page=5"
    html, parsed = page(client, url)
    pages = parsed.links_with_class("pagination__page") + parsed.links_with_class("pagination__step")
    assert len(pages) >= 3
    expected = {"q": "Corona", "sort": "date", "source": "tagesspiegel.de", "lang": "de",
                "from": "2020", "to": "2020-12", "per_page": "5"}
    for link, _ in pages:
        args = args_of(link["href"])
        assert {k: v for k, v in args.items() if k != "page"} == expected
    forward = next(a for a, _ in parsed.links if a.get("rel") == "next")
    assert args_of(forward["href"])["page"] == "2"
    second_html, second = page(client, forward["href"])
    assert next(a for a, _ in second.links_with_class("pagination__page")
                if a.get("aria-current") == "page")["aria-label"] == "Seite 2"
    assert '<ol class="hits" start="6">' in second_html
    # The search box keeps the filters as hidden fields.
    assert second.first("input", type="hidden", name="source", value="tagesspiegel.de")
    assert second.first("input", type="hidden", name="from", value="2020")


def test_meinten_sie(client):
    html, parsed = page(client, "/?q=Impfnug&lang=de")
    assert "Meinten Sie:" in html
    link = parsed.links_with_class("suggestion__link")[0]
    assert link[1] == "Impfung"
    assert args_of(link[0]["href"]) == {"q": "Impfung", "lang": "de"}


def test_empty_states(client):
    html, parsed = page(client, "/?q=Xylophonquartettzauber")
    assert "Keine Treffer für „Xylophonquartettzauber“" in html
    assert "Prüfen Sie die Schreibweise" in html
    html, parsed = page(client, "/?q=Xylophonquartettzauber&source=zeit.de")
    assert "mit diesen Filtern" in html
    assert ("/?q=Xylophonquartettzauber", "Ohne Filter suchen") in [(a["href"], t) for a, t in parsed.links]
    html, _ = page(client, "/?q=der die das")
    assert "Nach diesen Wörtern kann nicht gesucht werden" in html
    html, _ = page(client, "/?q=Corona&page=900")
    assert "keine Treffer mehr" in html


def test_any_mode_is_explained(client):
    html, _ = page(client, "/?q=Impfung Pflegeheim Quarantäne Xylophonquartettzauber")
    assert "Nicht alle Suchwörter kommen zusammen vor" in html


@pytest.mark.parametrize("query", [
    "", "   ", "\"", "((", "OR", "-", "*", "a*", "title:", "date:..", "date:2020-13",
    "source:", "NOT NOT", "\x00\x01\x7f", "ä" * 5000, "🦠 Corona", "<script>alert(1)</script>",
    "Corona OR (Impfung -Berlin) \"Angela Merkel\" title:Lockdown date:2020-03..2020-05 Impf*",
])
def test_any_query_text_is_valid(client, query):
    assert client.get("/", query_string={"q": query}).status_code == 200
    response = client.get("/api/search", query_string={"q": query})
    assert response.status_code == 200
    assert response.get_json()["query"] == query[:1000]  # the part searched (max_query_chars)


def test_invalid_parameters_on_the_page(client):
    for url, words in [("/?q=Corona&page=0", "Seitenzahl"), ("/?q=Corona&page=abc", "Seitenzahl"),
                       ("/?q=Corona&per_page=1000", "Treffer pro Seite"),
                       ("/?q=Corona&sort=foo", "Relevanz oder Datum"),
                       ("/?q=Corona&from=notadate", "JJJJ-MM-TT"),
                       ("/?q=Corona&from=2021&to=2020", "nicht nach")]:
        html, parsed = page(client, url, status=400)
        assert words in html and "Ungültige Anfrage" in html
        assert "Traceback" not in html


def test_empty_filter_values_mean_no_filter(client):
    full = client.get("/api/search?q=Corona").get_json()
    blank = client.get("/api/search?q=Corona&lang=&source=&category=&from=&to=").get_json()
    assert blank["total"] == full["total"]
    page(client, "/?q=Corona&lang=&source=&category=&from=&to=")


# -- escaping ----------------------------------------------------------------------


def test_article_text_is_escaped_in_snippets(client):
    html, _ = page(client, "/?q=Zeichenfolge")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html


def test_markup_from_articles_is_escaped_everywhere(odd_client):
    html, parsed = page(odd_client, "/?q=Zaunkönig")
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>fett" not in html
    assert "&lt;script&gt;alert(" in html and "Gartenblatt &lt;b&gt;fett&lt;/b&gt;" in html
    assert "<mark>Zaunkönig</mark>" in html
    assert not [e for e in parsed.elements if e[0] in ("script",) and "src" not in e[1]]
    for article_id in ODD_IDS[:2]:
        article_html, article_page = page(odd_client, f"/artikel/{article_id}?q=Zaunkönig")
        assert "<script>alert" not in article_html and "<img src=x" not in article_html
        assert "&lt;img src=x onerror=alert(1)&gt;" in article_html
        assert "und &amp; bleiben Text" in article_html
        assert "<mark>Zaunkönig</mark>" in article_html
    # A javascript: address is not linked.
    article_html, article_page = page(odd_client, "/artikel/test:12")
    assert "javascript:" not in article_html
    assert not [a for a, _ in article_page.links if "Originalartikel" in _]


# -- article page ----------------------------------------------------------------


def test_article_page(client, app):
    api = client.get("/api/search?q=Impfung").get_json()
    hit = next(h for h in api["hits"] if h["url"])
    html, parsed = page(client, f"/artikel/{hit['id']}?q=Impfung")
    assert '<html lang="de">' in html
    article = client.get(f"/api/articles/{hit['id']}").get_json()
    assert re.search(r'<h1 id="article-title" class="article__title" lang="de">', html)
    body = html.split('class="article__body"')[1].split("</div>")[0]
    assert len(re.findall(r"<p>", body)) == len(article["paragraphs"])
    assert "<mark>Impfung" in html
    original = next(a for a, t in parsed.links if "Originalartikel" in t)
    assert original["href"] == hit["url"] and "noopener" in original["rel"]
    related = parsed.links_with_class("related__link")
    assert len(related) == 5
    assert all(a["href"].startswith("/artikel/") for a, _ in related)
    assert hit["id"] not in [urlsplit(a["href"]).path.rsplit("/", 1)[1] for a, _ in related]
    back = next(a for a, t in parsed.links if "Zurück zu den Treffern" in t)
    assert args_of(back["href"]) == {"q": "Impfung"}
    # Without a query nothing is marked.
    plain, _ = page(client, f"/artikel/{hit['id']}")
    assert "<mark>" not in plain


@pytest.mark.parametrize("article_id", ODD_IDS)
def test_odd_ids_round_trip_through_links(odd_client, article_id):
    from flask import url_for

    with odd_client.application.test_request_context():
        href = url_for("pages.article", article_id=article_id)
        api_href = url_for("api.article", article_id=article_id)
    assert "?" not in href and "#" not in href
    if article_id == "..":
        return  # a browser resolves a path segment "..", so such an id is reached by the API only
    html, _ = page(odd_client, href)
    assert re.search(r'<h1 id="article-title"[^>]*>Sonderfall \d', html)
    response = odd_client.get(api_href)
    assert response.status_code == 200 and response.get_json()["id"] == article_id
    _, results = page(odd_client, "/?q=Zaunkönig&per_page=20")
    assert href in [urlsplit(a["href"]).path for a, _ in results.links]


@pytest.mark.parametrize("path", [
    "/artikel/does-not-exist", "/artikel/..%2F..%2Fetc%2Fpasswd", "/artikel/../../etc/passwd",
    "/artikel/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/artikel/a%00b", "/artikel/a%0Ab", "/artikel/" + "x" * 201,
    "/artikel/%2Fetc%2Fpasswd", "/artikel/index%2FCURRENT", "/artikel/", "/nirgendwo",
])
def test_unknown_articles_and_pages_give_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Seite nicht gefunden" in html and '<html lang="de">' in html
    assert "root:" not in html


# -- JSON API ----------------------------------------------------------------------


def test_api_search_is_exactly_the_cli_json(client, web_index_dir):
    args = ["Impfung", "--index", str(web_index_dir), "--json", "--page", "2", "--limit", "7",
            "--sort", "date", "--lang", "de", "--source", "zeit.de", "--from", "2020-02", "--to", "2020-12"]
    cli_result = CliRunner().invoke(cli.main, ["search", *args])
    assert cli_result.exit_code == 0, cli_result.output
    response = client.get("/api/search?q=Impfung&page=2&per_page=7&sort=date&lang=de&source=zeit.de"
                          "&from=2020-02&to=2020-12")
    assert response.status_code == 200 and response.mimetype == "application/json"
    api_text = response.get_data(as_text=True)
    cli_text = cli_result.output.strip()
    # Byte for byte the same, apart from the time taken.
    took = re.compile(r'"took_ms": [0-9.e+-]+')
    assert took.sub("T", api_text) == took.sub("T", cli_text)
    assert list(json.loads(api_text)) == list(json.loads(cli_text))
    assert json.loads(api_text)["hits"]


def test_api_search_defaults(client, app):
    body = client.get("/api/search?q=Corona").get_json()
    assert body["page"] == 1 and body["per_page"] == app.extensions["newssearch"].settings.per_page
    assert set(body) == {"query", "total", "page", "per_page", "took_ms", "mode", "reason", "hits",
                         "facets", "suggestion", "collapse", "stories", "folded"}
    assert client.get("/api/search").get_json()["reason"] == "empty query"
    assert client.get("/api/search?q=Corona&per_page=100").get_json()["per_page"] == 100


@pytest.mark.parametrize("query, name", [
    ("page=0", "page"), ("page=abc", "page"), ("page=", "page"), ("page=1.5", "page"),
    ("page=-1", "page"), ("page=1001", "page"), ("per_page=1000", "per_page"),
    ("per_page=0", "per_page"), ("per_page=101", "per_page"), ("sort=foo", "sort"), ("sort=", "sort"),
    ("from=notadate", "from"), ("to=2020-13", "to"), ("from=2021&to=2020", "from"),
    ("page=99999999999999999999", "page"),
])
def test_api_invalid_parameters(client, query, name):
    response = client.get(f"/api/search?q=Corona&{query}")
    assert_error_json(response, 400, "invalid_parameter")
    assert name in response.get_json()["error"]["message"]


def test_api_article(client, app):
    engine: Engine = app.extensions["newssearch"]
    hit = client.get("/api/search?q=Impfung").get_json()["hits"][0]
    body = client.get(f"/api/articles/{hit['id']}").get_json()
    assert body == engine.article(hit["id"])
    assert "paragraphs_html" not in body
    marked = client.get(f"/api/articles/{hit['id']}?q=Impfung").get_json()
    assert any("<mark>" in p for p in marked["paragraphs_html"])
    assert_error_json(client.get("/api/articles/nope"), 404, "not_found")
    assert_error_json(client.get("/api/articles/a%01b"), 404, "not_found")
    assert_error_json(client.get("/api/articles/" + "y" * 201), 404, "not_found")
    assert_error_json(client.get("/api/articles/..%2F..%2Fetc%2Fpasswd"), 404, "not_found")


def test_api_stats_and_health(client, app):
    stats = client.get("/api/stats").get_json()
    assert stats == app.extensions["newssearch"].stats()
    assert stats["documents"] > 2000 and "zeit.de" in stats["sources"]
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_api_unknown_routes_and_methods(client):
    assert_error_json(client.get("/api/nothing"), 404, "not_found")
    assert_error_json(client.get("/api/search/"), 404, "not_found")
    response = client.post("/api/search?q=x")
    assert_error_json(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    assert client.post("/").status_code == 405


def test_openapi_is_served(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")


# -- no index, failures -------------------------------------------------------------


def test_without_an_index(empty_client):
    assert_error_json(empty_client.get("/api/search?q=x"), 503, "index_missing")
    assert_error_json(empty_client.get("/api/stats"), 503, "index_missing")
    assert_error_json(empty_client.get("/healthz"), 503, "index_missing")
    assert_error_json(empty_client.get("/api/articles/x"), 503, "index_missing")
    for url in ("/", "/?q=x", "/artikel/x"):
        response = empty_client.get(url)
        assert response.status_code == 503
        html = response.get_data(as_text=True)
        assert "Noch kein Suchindex" in html and "newssearch index" in html


def test_unexpected_errors_give_500_without_details(web_index_dir, monkeypatch):
    app = create_app({"INDEX_DIR": web_index_dir})
    engine = app.extensions["newssearch"]

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail /etc/passwd")

    monkeypatch.setattr(engine, "search", broken)
    client = app.test_client()
    response = client.get("/api/search?q=x")
    assert_error_json(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    response = client.get("/?q=x")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "secret" not in text and "Interner Fehler" in text


# -- security headers, no inline code ----------------------------------------------


@pytest.mark.parametrize("url", ["/", "/?q=Corona", "/api/search?q=x", "/api/stats", "/healthz",
                                 "/static/style.css", "/nirgendwo", "/api/search?page=0",
                                 "/api/openapi.json"])
def test_security_headers(client, url):
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


@pytest.mark.parametrize("url", ["/", "/?q=Corona&source=zeit.de", "/?q=Xylophonquartettzauber",
                                 "/artikel/edc1fb985e9ebae4?q=Impfung", "/nirgendwo", "/?page=0"])
def test_pages_have_no_inline_scripts_or_styles(client, url):
    html = client.get(url).get_data(as_text=True)
    parsed = Page(html)
    assert not [e for e in parsed.elements if e[0] == "style"]
    assert not [e for e in parsed.elements if "style" in e[1]]
    assert not [e for e in parsed.elements if any(k.startswith("on") for k in e[1])]
    scripts = [e for e in parsed.elements if e[0] == "script"]
    assert all(e[1].get("src", "").startswith("/static/") for e in scripts)
    assert not re.search(r"<script[^>]*>[^<]+</script>", html)


def test_pages_work_without_javascript(client):
    """Every control is a link or a GET form: nothing needs a script."""
    _, parsed = page(client, "/?q=Corona")
    form = parsed.first("form", role="search")
    assert form["method"] == "get" and form["action"] == "/"
    assert not [e for e in parsed.elements if e[0] in ("button",) and e[1].get("type") != "submit"]
    assert all(a.get("href") for a, _ in parsed.links)


def test_foreign_language_text_is_marked_as_such(client):
    api = client.get("/api/search?q=bike lanes&lang=en").get_json()
    assert api["hits"], api
    hit = api["hits"][0]
    html, _ = page(client, f"/artikel/{hit['id']}")
    assert '<div class="article__body" lang="en">' in html and '<html lang="de">' in html
    results, _ = page(client, "/?q=bike lanes&lang=en")
    assert '<article lang="en">' in results


# -- only the first hits (exact_totals=0) --------------------------------------------


def test_the_api_can_ask_for_the_first_hits_only(client):
    """exact_totals=0 (Elasticsearch's track_total_hits=false): the same hits, no facets,
    and a total flagged as a lower bound where articles that could not reach the page
    were skipped; any other value is a 400 in the JSON shape."""
    query = "Corona OR Covid OR Pandemie OR Virus"
    exact = client.get("/api/search", query_string={"q": query}).get_json()
    top = client.get("/api/search", query_string={"q": query, "exact_totals": "0"}).get_json()
    assert [h["id"] for h in top["hits"]] == [h["id"] for h in exact["hits"]]
    assert any(exact["facets"].values()) and not any(top["facets"].values())
    assert "total_is_estimate" not in exact
    assert top["total_is_estimate"] is True and 10 <= top["total"] <= exact["total"]
    assert_error_json(client.get("/api/search?q=Corona&exact_totals=yes"), 400,
                      "invalid_parameter")


def test_the_page_says_at_least_when_the_total_is_a_lower_bound(web_index_dir):
    """A search out of time counts only the matches found by then: the page says
    "mindestens" (at least) before the total."""
    settings = Settings(index_dir=web_index_dir, search_time_budget_seconds=1e-9)
    cut = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    html, found = page(cut, "/?q=Corona+OR+Covid+OR+Pandemie")
    count = found.first("strong", **{"data-total-estimate": "1"})
    assert count is not None, html[:2000]
    assert "mindestens" in html
    html, _ = page(create_app({"INDEX_DIR": web_index_dir, "TESTING": True}).test_client(),
                   "/?q=Corona+OR+Covid+OR+Pandemie")
    assert "data-total-estimate" not in html and "mindestens" not in html
