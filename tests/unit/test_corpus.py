"""Reading the corpus (search/ingest/corpus.py): every input format, cleaning, encodings and
broken files.

The articles come from the real corpora in ../shared/corpora; where a format
needs a file of its own (HTML pages, aliased JSON fields, broken input) the
test writes it from real article text.
"""

import gzip
import html
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from search import Article, Problem, Settings
from search.ingest.corpus import find_files, read_file
from support.corpora import (SEED_FILE, read_fang, read_gnad, shared_corpus, shared_file,
                             write_jsonl)

SETTINGS = Settings()


def read(path: Path, settings: Settings = SETTINGS):
    items = list(read_file(Path(path), settings))
    return ([i for i in items if isinstance(i, Article)],
            [i for i in items if isinstance(i, Problem)])


def read_one(path: Path, settings: Settings = SETTINGS) -> Article:
    articles, problems = read(path, settings)
    assert not problems, [str(p) for p in problems]
    assert len(articles) == 1
    return articles[0]


def squeeze(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def zeit_record(fang000):
    """A real article with at least four long paragraphs."""
    for record in fang000:
        paragraphs = [p for p in record["article"].split("\n") if len(p) > 150]
        if record["source"] == "zeit.de" and len(paragraphs) >= 4:
            return record
    pytest.fail("no zeit.de article with four long paragraphs in part-000")


def long_paragraphs(record, count=4):
    return [squeeze(p) for p in record["article"].split("\n") if len(p) > 150][:count]


# -- seed format ---------------------------------------------------------------------------


def test_seed_article_id_month_title_and_paragraphs():
    path = shared_file("seed", SEED_FILE)
    raw = path.read_text(encoding="utf-8")
    article = read_one(path)

    assert article.id == "edced858fe0a0ea0"
    assert article.date is not None and article.date.iso == "2017-01"
    assert article.date.month == "2017-01"
    # The lead is the rest of the header line; its first sentence ends at the first ". ".
    lead = raw.split("\n", 1)[0].split("2017-01", 1)[1].strip()
    assert article.title == lead[: lead.index(". ") + 1]
    assert "date" not in article.title and "2017" not in article.title
    blocks = [squeeze(b) for b in re.split(r"\n\s*\n", raw) if b.strip()]
    blocks[0] = lead
    assert article.text.split("\n\n") == blocks


# -- plain .txt ----------------------------------------------------------------------------


def test_plain_txt_takes_the_first_line_as_title():
    path = shared_file("bbc-en", "business", "001.txt")
    lines = path.read_text(encoding="utf-8").split("\n")
    article = read_one(path)
    assert article.id == "001"
    assert article.title == lines[0].strip()
    assert article.date is None
    assert article.text.split("\n\n")[0] == squeeze(lines[2])
    assert lines[0].strip() not in article.text


def test_plain_txt_without_title_line_uses_the_first_sentence(tmp_path, zeit_record):
    paragraphs = long_paragraphs(zeit_record)
    path = tmp_path / "ohne-titel.txt"
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    article = read_one(path)
    assert article.text.split("\n\n") == paragraphs
    assert paragraphs[0].startswith(article.title.rstrip(" …"))
    assert len(article.title) <= SETTINGS.title_max_chars + 2


# -- HTML ----------------------------------------------------------------------------------

BOILERPLATE = ("Werbebanner-Skript", "Stilregel-Text", "Kopfzeile der Zeitung", "Navigationspunkt",
               "Kommentar im Quelltext", "Seitenspalte mit Links", "Newsletter-Formular",
               "Fußzeile mit Impressum")


def news_page(record, *, og_title=None, h1=None, title=None, meta_date=None, time_date=None,
              canonical=None, wrap_article=True) -> str:
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in long_paragraphs(record))
    head = [f"<title>{html.escape(title)}</title>" if title else "",
            f'<meta property="og:title" content="{html.escape(og_title)}">' if og_title else "",
            f'<meta property="article:published_time" content="{meta_date}">' if meta_date else "",
            f'<link rel="canonical" href="{canonical}">' if canonical else "",
            '<meta property="og:site_name" content="Beispielbote">',
            '<meta property="article:section" content="Wirtschaft">',
            "<script>var x = 'Werbebanner-Skript';</script>",
            "<style>.x:before { content: 'Stilregel-Text'; }</style>"]
    body = "".join([
        f"<h1>{html.escape(h1)}</h1>" if h1 else "",
        f'<time datetime="{time_date}">am Morgen</time>' if time_date else "",
        "<!-- Kommentar im Quelltext -->",
        "<nav><ul><li><a href='/'>Navigationspunkt</a></li></ul></nav>",
        paragraphs,
        "<aside>Seitenspalte mit Links</aside>",
        "<form><label>Newsletter-Formular</label><input name='mail'></form>",
    ])
    if wrap_article:
        body = f"<main><article>{body}</article></main>"
    return (f'<!DOCTYPE html>\n<html lang="de"><head><meta charset="utf-8">{"".join(head)}</head>'
            f"<body><header>Kopfzeile der Zeitung</header>{body}"
            f"<footer>Fußzeile mit Impressum</footer></body></html>")


@pytest.mark.parametrize("wrap_article", [True, False], ids=["article", "body"])
def test_html_page_drops_boilerplate_and_keeps_paragraphs(tmp_path, zeit_record, wrap_article):
    path = tmp_path / "seite.html"
    path.write_text(news_page(zeit_record, og_title=zeit_record["header"],
                              meta_date="2020-03-05T08:15:00+01:00",
                              canonical="https://example.org/wirtschaft/artikel-1",
                              wrap_article=wrap_article), encoding="utf-8")
    article = read_one(path)
    assert article.id == "seite"
    assert article.title == squeeze(zeit_record["header"])
    assert article.date.iso == "2020-03-05T08:15:00+01:00"
    assert article.url == "https://example.org/wirtschaft/artikel-1"
    assert article.source == "Beispielbote"
    assert article.category == "Wirtschaft"
    assert article.lang == "de"
    assert article.text.split("\n\n") == long_paragraphs(zeit_record)
    for noise in BOILERPLATE:
        assert noise not in article.text


@pytest.mark.parametrize("given, expected", [
    (dict(og_title="OG", h1="H1", title="TITLE"), "OG"),
    (dict(h1="H1", title="TITLE"), "H1"),
    (dict(title="TITLE"), "TITLE"),
])
def test_html_title_order_og_title_then_h1_then_title(tmp_path, zeit_record, given, expected):
    names = {"OG": "Titel aus og:title", "H1": "Titel aus der Überschrift",
             "TITLE": "Titel aus dem title-Element"}
    path = tmp_path / "seite.htm"
    path.write_text(news_page(zeit_record, **{k: names[v] for k, v in given.items()}),
                    encoding="utf-8")
    assert read_one(path).title == names[expected]


def test_html_date_from_time_element_when_no_meta(tmp_path, zeit_record):
    path = tmp_path / "zeit.html"
    path.write_text(news_page(zeit_record, h1="Überschrift", time_date="2020-02-29T23:30:00+01:00"),
                    encoding="utf-8")
    article = read_one(path)
    assert article.date.iso == "2020-02-29T23:30:00+01:00"
    assert article.date.month == "2020-02"
    assert article.url is None


def test_html_entities_are_decoded_once(tmp_path):
    # The page shows the literal text "&lt;b&gt;" (written &amp;lt;b&amp;gt;) and "a & b".
    path = tmp_path / "entitaeten.html"
    path.write_text("<html><body><h1>Entitäten</h1><p>Im Quelltext steht &amp;lt;b&amp;gt; "
                    "und AT&amp;T, dazu Stra&shy;ßen&shy;bahn und &quot;Zitat&quot;.</p>"
                    "</body></html>", encoding="utf-8")
    article = read_one(path)
    assert "&lt;b&gt;" in article.text
    assert "AT&T" in article.text
    assert "Straßenbahn" in article.text
    assert '"Zitat"' in article.text


# -- JSON Lines ----------------------------------------------------------------------------

ALIASES = {
    "id": ("id", "doc_id", "guid", "_id"),
    "title": ("title", "header", "headline"),
    "text": ("text", "article", "body", "content"),
    "date": ("date", "published", "published_at", "datetime", "day"),
    "url": ("url", "link"),
    "source": ("source", "publisher", "site"),
    "category": ("category", "section", "ressort"),
    "lang": ("lang", "language"),
}


def aliased_record(record, field, key):
    """A real FANG record with every field under its first name, ``field`` under ``key``."""
    values = {"id": record["id"], "title": record["header"], "text": record["article"],
              "date": record["date"], "url": record["url"], "source": record["source"],
              "category": "Wirtschaft", "lang": "de"}
    out = {name: value for name, value in values.items() if name != field}
    out[key] = values[field]
    return out


@pytest.mark.parametrize("field, key", [(f, k) for f, keys in ALIASES.items() for k in keys])
def test_jsonl_field_aliases(tmp_path, fang000, field, key):
    record = fang000[0]
    path = write_jsonl(tmp_path / "agentur.jsonl", [aliased_record(record, field, key)])
    article = read_one(path)
    assert article.id == record["id"]
    assert article.title == squeeze(record["header"])
    assert article.text.split("\n\n") == [squeeze(p) for p in record["article"].split("\n")
                                          if p.strip()]
    assert article.date.iso == record["date"].replace(" ", "T")
    assert article.url == record["url"]
    assert article.source == record["source"]
    assert article.category == "Wirtschaft"
    assert article.lang == "de"


def test_jsonl_html_field_is_cleaned_like_a_page(tmp_path, zeit_record):
    paragraphs = long_paragraphs(zeit_record)
    markup = ("<script>track('Werbebanner-Skript')</script>"
              + "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs))
    path = write_jsonl(tmp_path / "feed.jsonl", [{"guid": "g1", "headline": "Ein Titel", "html": markup}])
    article = read_one(path)
    assert article.text.split("\n\n") == paragraphs
    assert "Werbebanner-Skript" not in article.text


@pytest.mark.parametrize("value, iso", [
    ("2020-03-31T23:59:00+02:00", "2020-03-31T23:59:00+02:00"),
    ("2020-03-31T21:59:00Z", "2020-03-31T21:59:00+00:00"),
    ("2020-03-31T23:59:00", "2020-03-31T23:59:00"),
    ("2020-03-31T23:59", "2020-03-31T23:59"),
    ("2020-03-31 23:59:00", "2020-03-31T23:59:00"),
    ("2020-03-31", "2020-03-31"),
    ("2020-03", "2020-03"),
])
def test_jsonl_date_forms(tmp_path, zeit_record, value, iso):
    path = write_jsonl(tmp_path / "daten.jsonl",
                       [{"id": "d1", "title": "Datum", "text": zeit_record["article"], "date": value}])
    article = read_one(path)
    assert article.date is not None, value
    assert article.date.iso.startswith(iso), (value, article.date.iso)
    assert article.date.month == "2020-03"


def test_jsonl_without_id_gets_stem_and_line(tmp_path, fang000):
    records = [{"title": r["header"], "text": r["article"]} for r in fang000[:3]]
    path = write_jsonl(tmp_path / "meldungen.jsonl", records)
    articles, problems = read(path)
    assert not problems
    assert [a.id for a in articles] == ["meldungen:1", "meldungen:2", "meldungen:3"]


def test_jsonl_gz_reads_like_jsonl(tmp_path, fang000):
    records = fang000[:20]
    plain = write_jsonl(tmp_path / "teil.jsonl", records)
    packed = tmp_path / "teil.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    from_plain, _ = read(plain)
    from_packed, problems = read(packed)
    assert not problems
    assert [(a.id, a.title, a.text, a.date, a.url) for a in from_plain] == \
           [(a.id, a.title, a.text, a.date, a.url) for a in from_packed]


@pytest.mark.parametrize("name", ["bom.jsonl", "bom.jsonl.gz"])
def test_jsonl_with_byte_order_mark(tmp_path, fang000, name):
    data = ("\ufeff" + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in fang000[:3]))
    data = data.encode("utf-8")
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    articles, problems = read(path)
    assert not problems
    assert [a.id for a in articles] == [r["id"] for r in fang000[:3]]


def test_invalid_json_lines_are_reported_with_file_and_line(tmp_path, fang000):
    good = [json.dumps(r, ensure_ascii=False) for r in fang000[:3]]
    lines = [good[0], '{"id": "kaputt", "title": ', good[1], "[1, 2, 3]", "", good[2],
             '{"id": "leer", "title": ""}']
    path = tmp_path / "gemischt.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    articles, problems = read(path)
    assert [a.id for a in articles] == [r["id"] for r in fang000[:3]]
    assert sorted(p.line for p in problems) == [2, 4, 7]
    for problem in problems:
        assert problem.path == str(path)
        assert str(problem).startswith(f"{path}:{problem.line}: ")
    assert "JSON" in next(p for p in problems if p.line == 2).reason


# -- the real corpora as they are -----------------------------------------------------------


def test_fang_records_index_as_they_are(fang000):
    path = shared_file("fang-covid-real", "part-000.jsonl.gz")
    articles, problems = read(path)
    assert not problems
    assert len(articles) == len(fang000) == 1000
    for article, record in zip(articles, fang000):
        assert article.id == record["id"] and article.id.startswith("fang-")
        assert article.source == record["source"]
        assert article.url == record["url"]
        assert article.title == squeeze(record["header"])
        # Both upstream date forms: with offset (zeit, tagesspiegel), without (sueddeutsche).
        assert article.date.iso == record["date"].replace(" ", "T")
        assert article.date.month == record["day"][:7]
        assert article.text and "\u2028" not in article.text


def test_xquad_passages_keep_their_ids():
    path = shared_file("xquad-de-retrieval", "docs.de.jsonl")
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    articles, problems = read(path)
    assert not problems
    assert [a.id for a in articles] == [r["doc_id"] for r in raw]
    assert len(articles) == 240
    assert all(re.fullmatch(r"a\d\dp\d\d", a.id) for a in articles)
    assert [a.title for a in articles] == [r["title"] for r in raw]


def test_10kgnad_csv_rows_categories_and_titles():
    path = shared_file("10kgnad-test", "test.csv")
    rows = read_gnad()
    articles, problems = read(path)
    assert not problems
    assert len(articles) == len(rows) == 1028
    assert [a.id for a in articles] == [f"test:{n}" for n in range(1, 1029)]
    assert [a.category for a in articles] == [row[0] for row in rows]
    # The counts of the dataset's description (SOURCE.md).
    assert Counter(a.category for a in articles) == {
        "Web": 168, "Panorama": 168, "International": 151, "Wirtschaft": 141, "Sport": 120,
        "Inland": 102, "Etat": 67, "Wissenschaft": 57, "Kultur": 54}
    for article, row in zip(articles, rows):
        assert squeeze(article.text) == squeeze(html.unescape(row[1]))
        assert article.text.startswith(article.title.rstrip(" …"))


def test_10kgnad_titles_are_not_cut_at_ordinals_or_abbreviations():
    """German dates ("am 1. Juli") and abbreviations ("St. Pölten") do not end a sentence."""
    articles, _ = read(shared_file("10kgnad-test", "test.csv"))
    cut = [a.title for a in articles
           if re.search(r"(?:\b\d{1,2}|\b(?:St|Dr|Prof|Mrd|Mio|Nr|vs|Wr|bzw|ca))\.$", a.title)]
    assert cut == []


# -- cleaning ------------------------------------------------------------------------------


def test_cleaning_of_a_real_article(tmp_path, zeit_record):
    """Soft hyphens, zero-width characters, entities, decomposed umlauts, odd spaces and
    CRLF line ends put into a real article are all undone; the paragraphs stay."""
    paragraphs = [unicodedata.normalize("NFC", p) for p in long_paragraphs(zeit_record)]
    dirty = []
    for paragraph in paragraphs:
        words = paragraph.split(" ")
        words = [w[: len(w) // 2] + "\u00ad" + w[len(w) // 2:] if len(w) > 8 else w for w in words]
        words = [w[:2] + "\u200b" + w[2:] if len(w) == 6 else w for w in words]
        text = "  ".join(words[:5]) + "\u00a0" + " \t".join(words[5:10]) + "\r\n" + " ".join(words[10:])
        text = text.replace("&", "&amp;").replace('"', "&quot;")
        dirty.append(unicodedata.normalize("NFD", text))
    path = tmp_path / "schmutzig.txt"
    path.write_bytes(("Ein Titel\r\n\r\n" + "\r\n\r\n\r\n".join(dirty)).encode("utf-8"))
    article = read_one(path)
    assert article.title == "Ein Titel"
    assert article.text.split("\n\n") == paragraphs


def test_line_separators_of_a_real_article_become_white_space():
    records = {r["id"]: r for r in read_fang("part-000.jsonl.gz")}
    record = records["fang-13110"]
    assert "\u2028" in record["article"]
    article = next(a for a in read(shared_file("fang-covid-real", "part-000.jsonl.gz"))[0]
                   if a.id == "fang-13110")
    assert "\u2028" not in article.text
    assert squeeze(article.text) == squeeze(record["article"])


# -- encodings and broken files ------------------------------------------------------------


def test_bbc_file_in_latin1_is_read_with_the_cp1252_fallback():
    path = shared_file("bbc-en", "sport", "199.txt")
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    article = read_one(path)
    assert "£15.8m" in article.text
    assert "\ufffd" not in article.text


def test_cp1252_german_text(tmp_path, zeit_record):
    paragraphs = long_paragraphs(zeit_record)
    text = "Überschrift mit Umlauten\n\n" + "\n\n".join(paragraphs)
    path = tmp_path / "ansi.txt"
    path.write_bytes(text.encode("cp1252", errors="replace"))
    article = read_one(path)
    assert article.title == "Überschrift mit Umlauten"
    assert article.text.split("\n\n") == [p.encode("cp1252", "replace").decode("cp1252")
                                          for p in paragraphs]


def test_utf16_with_byte_order_mark(tmp_path, zeit_record):
    paragraphs = long_paragraphs(zeit_record)
    path = tmp_path / "utf16.txt"
    path.write_bytes(("Überschrift\n\n" + "\n\n".join(paragraphs)).encode("utf-16"))
    article = read_one(path)
    assert article.text.split("\n\n") == paragraphs


@pytest.mark.parametrize("name, data, reason", [
    ("leer.txt", b"", "empty"),
    ("bild.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40, "binary"),
    ("steuer.html", bytes(range(1, 9)) * 400, "binary"),
    ("kaputt.jsonl.gz", b"\x1f\x8b\x08\x00" + b"keine gzip-daten" * 50, "decompress"),
    # Bytes that are neither UTF-8 nor cp1252 (0x81, 0x8d, 0x8f, 0x90 and 0x9d are unassigned).
    ("falsch.txt", "Grüße aus München ".encode("latin-1") * 20 + b"\x81\x8d\x8f\x90\x9d", "not valid text"),
])
def test_broken_files_become_problems(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    articles, problems = read(path)
    assert articles == []
    assert len(problems) == 1
    assert problems[0].path == str(path)
    assert reason in problems[0].reason


def test_oversized_file_is_skipped_with_its_size(tmp_path, zeit_record):
    path = tmp_path / "gross.txt"
    path.write_text("Titel\n\n" + zeit_record["article"], encoding="utf-8")
    size = path.stat().st_size
    articles, problems = read(path, Settings(max_file_bytes=size - 1))
    assert articles == [] and len(problems) == 1
    assert str(size) in problems[0].reason
    limit = f"{(size - 1) / 1024:.3g} KB"
    assert f"larger than {limit}" in problems[0].reason  # not "larger than 0 MB"
    assert read_one(path, Settings(max_file_bytes=size)).title == "Titel"


def test_a_corpus_folders_own_documentation_is_not_an_article(tmp_path):
    """bbc-en ships README.TXT beside its articles: walking the folder leaves it out,
    naming it explicitly still reads it."""
    bbc = shared_corpus("bbc-en")
    found = [item for item in find_files([bbc]) if isinstance(item, Path)]
    assert len(found) >= 2000
    assert all(path.parent != bbc for path in found)  # only the category folders' articles
    assert not [p for p in find_files([bbc]) if isinstance(p, Problem)]
    readme = bbc / "README.TXT"
    assert readme.exists()
    assert list(find_files([readme])) == [readme]


def test_reading_a_shared_corpus_fails_clearly_for_a_missing_corpus():
    with pytest.raises(pytest.fail.Exception, match="no-such-corpus.*missing"):
        shared_corpus("no-such-corpus")
