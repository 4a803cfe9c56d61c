"""Real archives in: WARC crawls, news-please JSON, record files of any size, retries.

Every test indexes real files into a real index on disk: WARC files written here
with warcio from saved pages of web-pages-de, news-please files and JSON Lines made
from real FANG-COVID articles (../shared/corpora).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from search import Engine, Settings, index_paths
from search.ingest import Article, Problem, file_parts, read_file
from search.ingest.warc import url_id

REPO = Path(__file__).resolve().parents[2]
CORPORA = Path(os.environ.get("NEWSSEARCH_CORPORA", REPO.parent / "shared" / "corpora"))

# Saved pages of web-pages-de with what the page itself says.
PAGES = {
    "tour-magazin.de-unfall.html": ("https://www.tour-magazin.de/profisport/news/nach-unfall"
                                    "-auf-intensivstation-bernal-kaempft-um-karriere/a51346.html",
                                    "2022-01-25", "Bernal"),
    "spektrum.de.coronavirus.html": ("https://www.spektrum.de/news/laesst-sich-die-"
                                     "coronavirus-ausbreitung-in-deutschland-kontrollieren/1710931",
                                     "2020-02-26", "Coronavirus"),
    "taz.de.siemens.html": ("https://taz.de/Siemens-und-die-Kohlemine-Adani/!5653863/",
                            "2020-01-13", "Kohlemine"),
    "evang.at-lockdown.html": ("https://evang.at/lockdown-gottesdienste-bleiben-unter-"
                               "strengen-auflagen-moeglich/", "2021-11-19", "Gottesdienste"),
}
CAPTURED = "2024-05-06T07:08:09Z"


def shared(*parts: str) -> Path:
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"shared corpus file missing: {path} (the tests read the real corpora "
                    f"from ../shared/corpora beside the repository)", pytrace=False)
    return path


def fang(part: str = "part-003.jsonl.gz") -> list[dict]:
    with gzip.open(shared("fang-covid-real", part), "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _response(writer, url: str, status: str, content_type: str | None, body: bytes,
              extra=()):
    headers = ([("Content-Type", content_type)] if content_type else []) + list(extra)
    http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
    record = writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                       http_headers=http,
                                       warc_headers_dict={"WARC-Date": CAPTURED})
    writer.write_record(record)
    request = writer.create_warc_record(url, "request", payload=io.BytesIO(
        f"GET {url} HTTP/1.1\r\nHost: example\r\n\r\n".encode()), warc_headers_dict={
        "WARC-Date": CAPTURED})
    writer.write_record(request)


def write_warc(path: Path, *, gzip_records: bool, undated_text: str,
               override: dict[str, bytes] | None = None) -> None:
    """Four real pages, one page without any date, a PDF and a redirect, each response
    with its request record, as a crawler writes them."""
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=gzip_records)
        for file, (url, _, _) in PAGES.items():
            body = (override or {}).get(url) or shared("web-pages-de", "eval", file).read_bytes()
            _response(writer, url, "200 OK", "text/html; charset=utf-8" if "taz" not in file
                      else "text/html", body)
        undated = ("<html lang='de'><head><title>Ohne Datum</title></head><body><article>"
                   + "".join(f"<p>{p}</p>" for p in undated_text.split("\n") if p.strip())
                   + "</article></body></html>").encode("utf-8")
        _response(writer, "https://example.org/ohne-datum", "200 OK", "text/html", undated)
        _response(writer, "https://example.org/bericht.pdf", "200 OK", "application/pdf",
                  b"%PDF-1.4\n" + bytes(4000))
        _response(writer, "https://example.org/alt", "301 Moved Permanently", "text/html",
                  b"<html><body>Moved</body></html>",
                  extra=[("Location", "https://example.org/neu")])


@pytest.fixture(scope="module")
def undated_text():
    record = next(r for r in fang() if len(r["article"]) > 1500)
    return record["article"]


@pytest.mark.parametrize("compressed", [False, True], ids=["warc", "warc.gz"])
def test_a_warc_crawl_indexes_its_html_pages(tmp_path, undated_text, compressed):
    corpus = tmp_path / "crawl"
    corpus.mkdir()
    warc = corpus / ("crawl.warc.gz" if compressed else "crawl.warc")
    write_warc(warc, gzip_records=compressed, undated_text=undated_text)
    settings = Settings(index_dir=tmp_path / "index")
    report = index_paths([corpus], settings)

    assert report.added == len(PAGES) + 1 and not report.problems, report.problems
    assert report.pages == len(PAGES) + 1
    assert report.passed == {"WARC requests": 7, "not HTML (application/pdf)": 1,
                             "redirects (HTTP 3xx)": 1}
    with Engine(settings) as engine:
        for file, (url, day, word) in PAGES.items():
            article = engine.article(url_id(url))
            assert article is not None, file
            assert article["url"] == url  # the WARC-Target-URI, not the page's canonical URL
            assert article["date"].startswith(day), (file, article["date"])
            assert article["lang"] == "de"
            assert url_id(url) in {hit["id"] for hit in engine.search(word, per_page=20).hits}
        assert engine.article(url_id("https://example.org/ohne-datum"))["date"] == \
            "2024-05-06T07:08:09+00:00"  # no date on the page: the capture's
        spektrum = engine.article(url_id(PAGES["spektrum.de.coronavirus.html"][0]))
        assert spektrum["authors"] == ["Lars Fischer", "Alina Schadwinkel"]
        assert engine.article(url_id("https://example.org/bericht.pdf")) is None
        assert engine.article(url_id("https://example.org/alt")) is None
        assert engine.stats()["documents"] == len(PAGES) + 1


def test_a_page_crawled_again_replaces_its_earlier_capture(tmp_path, undated_text):
    # Crawl files named by time, as crawlers name them: a later file's capture of a URL
    # replaces the earlier one (files are read in the order of their paths).
    corpus = tmp_path / "crawl"
    corpus.mkdir()
    write_warc(corpus / "crawl-20240501.warc.gz", gzip_records=True, undated_text=undated_text)
    settings = Settings(index_dir=tmp_path / "index")
    assert index_paths([corpus], settings).added == len(PAGES) + 1
    url = PAGES["taz.de.siemens.html"][0]
    page = shared("web-pages-de", "eval", "taz.de.siemens.html").read_bytes()
    with open(corpus / "crawl-20240601.warc.gz", "wb") as handle:
        _response(WARCWriter(handle, gzip=True), url, "200 OK", "text/html",
                  page.replace("Kohlemine".encode(), "Braunkohlegrube".encode()))
    report = index_paths([corpus], settings)
    assert (report.added, report.updated, report.removed) == (0, 1, 0), report
    with Engine(settings) as engine:
        assert engine.stats()["documents"] == len(PAGES) + 1
        assert "Braunkohlegrube" in engine.article(url_id(url))["text"]
        assert url_id(url) not in {h["id"] for h in engine.search("Kohlemine", per_page=50).hits}


def test_the_command_summarises_records_that_are_not_articles(tmp_path, undated_text):
    corpus = tmp_path / "crawl"
    corpus.mkdir()
    write_warc(corpus / "crawl.warc.gz", gzip_records=True, undated_text=undated_text)
    result = subprocess.run([sys.executable, "-m", "web", "index", str(corpus), "--index",
                             str(tmp_path / "index"), "--quiet"], cwd=REPO, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "skipped 0" in result.stdout
    assert ("  not articles: 7 WARC requests, 1 not HTML (application/pdf), "
            "1 redirects (HTTP 3xx)") in result.stdout
    assert "5 web pages" in result.stdout and "pages/s" in result.stdout


def test_a_broken_warc_is_reported_and_the_rest_indexed(tmp_path, undated_text):
    corpus = tmp_path / "crawl"
    corpus.mkdir()
    write_warc(corpus / "ganz.warc.gz", gzip_records=True, undated_text=undated_text)
    (corpus / "kein.warc").write_bytes(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 10)
    whole = (corpus / "ganz.warc.gz").read_bytes()
    (corpus / "abgeschnitten.warc.gz").write_bytes(whole[:len(whole) * 2 // 3])
    report = index_paths([corpus], Settings(index_dir=tmp_path / "index"))
    reasons = {Path(p.path).name: p.reason for p in report.problems}
    assert "not a WARC file" in reasons["kein.warc"]
    assert "abgeschnitten.warc.gz" in reasons
    assert report.documents == len(PAGES) + 1  # the cut copy's pages are the same URLs


# -- news-please ---------------------------------------------------------------------------


def news_please(record: dict) -> dict:
    """A FANG article as news-please writes it: one JSON object per article."""
    lead, _, body = record["article"].partition("\n")
    return {
        "title": record["header"], "maintext": body, "description": lead,
        "date_publish": record["date"][:19].replace("T", " "), "date_modify": None,
        "date_download": "2024-05-06 07:08:09", "url": record["url"],
        "source_domain": record["source"], "language": "de",
        "authors": ["Anna Beispiel", "Bernd Muster"], "image_url": None,
        "filename": "x.json", "localpath": None, "title_page": None, "title_rss": None,
    }


def test_a_news_please_folder_indexes_with_its_fields(tmp_path):
    records = fang()[:12]
    corpus = tmp_path / "news-please" / "zeit.de"
    corpus.mkdir(parents=True)
    for number, record in enumerate(records):
        (corpus / f"{number:04d}-artikel.json").write_text(
            json.dumps(news_please(record), ensure_ascii=False, indent=1), encoding="utf-8")
    (corpus / "kaputt.json").write_text('{"title": "Ohne Ende"', encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    report = index_paths([tmp_path / "news-please"], settings)
    assert report.added == len(records)
    assert [(Path(p.path).name, "invalid JSON" in p.reason) for p in report.problems] == \
        [("kaputt.json", True)]
    with Engine(settings) as engine:
        for number, record in enumerate(records):
            article = engine.article(f"{number:04d}-artikel")
            assert article["title"] == " ".join(record["header"].split())
            assert article["source"] == record["source"]
            assert article["url"] == record["url"]
            assert article["date"].startswith(record["date"][:10])
            assert article["lang"] == "de"
            assert article["authors"] == ["Anna Beispiel", "Bernd Muster"]
            lead = " ".join(record["article"].partition("\n")[0].split())
            if lead:  # the description is the teaser: the first paragraph
                assert article["paragraphs"][0] == lead


def test_news_please_names_work_in_json_lines_too(tmp_path):
    records = fang()[:5]
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(news_please(r), ensure_ascii=False) + "\n"
                            for r in records), encoding="utf-8")
    articles = [a for a in read_file(path, Settings()) if isinstance(a, Article)]
    assert [a.url for a in articles] == [r["url"] for r in records]
    assert all(a.authors == ("Anna Beispiel", "Bernd Muster") for a in articles)
    assert [a.source for a in articles] == [r["source"] for r in records]


# -- record files of any size -----------------------------------------------------------------


def multi_part_jsonl(path: Path, copies: int) -> int:
    """Real FANG articles written ``copies`` times over with ids of their own."""
    records = fang("part-004.jsonl.gz")
    count = 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) if path.suffix == ".gz" \
            else open(path, "w", encoding="utf-8") as handle:
        for copy in range(copies):
            for record in records:
                handle.write(json.dumps({**record, "id": f"{record['id']}-{copy}"},
                                        ensure_ascii=False) + "\n")
                count += 1
    return count


@pytest.mark.parametrize("name", ["gross.jsonl", "gross.jsonl.gz"])
def test_a_big_record_file_is_read_in_parts_in_bounded_memory(tmp_path, name):
    path = tmp_path / name
    multi_part_jsonl(path, copies=6)  # 6,000 articles, about 20 MB of JSON
    settings = Settings(read_part_bytes=512 * 1024)
    tracemalloc.start()
    try:
        parts = records = 0
        for part in file_parts(path, settings):
            parts += 1
            records += len(part.records)
            assert sum(len(r[1]) for r in part.records) <= settings.read_part_bytes + 100_000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert records == 6000 and parts >= 30
    assert peak < 8 * settings.read_part_bytes, f"reading held {peak // 1024} KB at its peak"


def test_a_multi_part_file_indexes_completely_through_the_workers(tmp_path):
    corpus = tmp_path / "dump"
    corpus.mkdir()
    count = multi_part_jsonl(corpus / "alles.jsonl.gz", copies=1)
    seen = []
    settings = Settings(index_dir=tmp_path / "index", read_part_bytes=64 * 1024,
                        parallel_min_bytes=0, index_workers=2)
    report = index_paths([corpus], settings, progress=lambda done, total: seen.append(done))
    assert report.added == count and not report.problems
    size = (corpus / "alles.jsonl.gz").stat().st_size
    inside = [done for done in seen if 0 < done < size]
    assert len(inside) >= 5, seen  # the bar moves while the one file is read
    assert seen == sorted(seen) and seen[-1] == size
    with Engine(settings) as engine:
        assert engine.stats()["documents"] == count
    again = index_paths([corpus], settings)
    assert again.unchanged == count and again.changed == 0


def test_a_record_over_the_limit_is_skipped_and_the_rest_read(tmp_path):
    records = fang()[:4]
    path = tmp_path / "mit-riesen.jsonl.gz"
    giant = json.dumps({"id": "riese", "text": "Wort " * 400_000})  # 2 MB on one line
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    path.write_bytes(gzip.compress("\n".join(lines[:2] + [giant] + lines[2:]).encode()))
    items = list(read_file(path, Settings(max_file_bytes=1024 * 1024)))
    assert [a.id for a in items if isinstance(a, Article)] == [r["id"] for r in records]
    problems = [p for p in items if isinstance(p, Problem)]
    assert [(p.line, "larger than 1 MB" in p.reason) for p in problems] == [(3, True)]


# -- a file that was skipped is tried again --------------------------------------------------


def test_a_skipped_file_is_read_again_on_the_next_run(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = fang()[:3]
    (corpus / "klein.txt").write_text("Kurz\n\n" + records[0]["article"], encoding="utf-8")
    big = corpus / "lang.txt"
    big.write_text("Lang\n\n" + "\n\n".join(r["article"] for r in records), encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", max_file_bytes=big.stat().st_size - 1)
    first = index_paths([corpus], settings)
    assert first.added == 1 and [Path(p.path).name for p in first.problems] == ["lang.txt"]
    # Nothing changed on disk: the skipped file is still tried again, and says so again.
    second = index_paths([corpus], settings)
    assert second.unchanged == 1 and [Path(p.path).name for p in second.problems] == ["lang.txt"]
    # With the cap raised (the file untouched), it is indexed.
    third = index_paths([corpus], settings.with_changes(max_file_bytes=big.stat().st_size))
    assert third.added == 1 and not third.problems and third.unchanged == 1
    fourth = index_paths([corpus], settings.with_changes(max_file_bytes=big.stat().st_size))
    assert fourth.changed == 0 and fourth.unchanged == 2


def test_a_file_broken_part_way_is_read_again_and_completed(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = fang()[:200]
    data = gzip.compress("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                 for r in records).encode())
    path = corpus / "download.jsonl.gz"
    path.write_bytes(data[:len(data) // 2])  # a download cut off half way
    settings = Settings(index_dir=tmp_path / "index")
    first = index_paths([corpus], settings)
    assert 0 < first.added < len(records)
    assert [(Path(p.path).name, p.line) for p in first.problems] == [("download.jsonl.gz", None)]
    again = index_paths([corpus], settings)  # not taken for unchanged: read and reported again
    assert again.unchanged == first.added and len(again.problems) == 1
    path.write_bytes(data)  # the download completed
    done = index_paths([corpus], settings)
    assert done.added == len(records) - first.added and not done.problems
    with Engine(settings) as engine:
        assert engine.stats()["documents"] == len(records)


def test_authors_are_returned_by_the_api_and_shown_escaped_on_the_article_page(tmp_path):
    from web import create_app

    record = fang()[20]
    corpus = tmp_path / "news-please"
    corpus.mkdir()
    (corpus / "mit-autoren.json").write_text(json.dumps(
        {**news_please(record), "authors": ["Anna Beispiel", "Bernd <b>Muster</b>"]},
        ensure_ascii=False), encoding="utf-8")
    index_paths([corpus], Settings(index_dir=tmp_path / "index"))
    client = create_app({"INDEX_DIR": tmp_path / "index", "TESTING": True}).test_client()
    body = client.get("/api/articles/mit-autoren").get_json()
    assert body["authors"] == ["Anna Beispiel", "Bernd <b>Muster</b>"]
    page = client.get("/artikel/mit-autoren").get_data(as_text=True)
    assert "Von Anna Beispiel, Bernd &lt;b&gt;Muster&lt;/b&gt;" in page
    assert "<b>Muster" not in page
    # An article without authors has an empty list and no line for them.
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "ohne.json").write_text(json.dumps({**news_please(record), "authors": []}),
                                     encoding="utf-8")
    index_paths([plain], Settings(index_dir=tmp_path / "index2"))
    client = create_app({"INDEX_DIR": tmp_path / "index2", "TESTING": True}).test_client()
    assert client.get("/api/articles/ohne").get_json()["authors"] == []
    assert "article__authors" not in client.get("/artikel/ohne").get_data(as_text=True)


def _short_dump(path: Path, copies: int, articles: int = 600) -> int:
    """``articles`` FANG articles cut to their first 600 characters (enough words to be
    signed as near-duplicates), written ``copies`` times over with ids of their own."""
    records = fang("part-004.jsonl.gz")[:articles]
    with open(path, "w", encoding="utf-8") as handle:
        for copy in range(copies):
            for record in records:
                handle.write(json.dumps({**record, "id": f"{record['id']}-{copy}",
                                         "article": record["article"][:600]},
                                        ensure_ascii=False) + "\n")
    return copies * len(records)


def test_what_a_build_holds_grows_by_little_per_article(tmp_path):
    """What an index build holds for each article it has read (its near-duplicate
    signature, its bookkeeping, its postings of ids, checksums and dates) stays small:
    the most memory held after a part of a generated multi-part file was indexed grows
    by at most 2 KB for each article of two more copies of the file. The postings
    buffer is bounded by its setting, and a first build of the same articles, untraced,
    loads what every build shares (language profiles, the compound lexicon, the words
    of these articles in the analysis tables), so what differs is what grows with the
    archive (a list per term of those postings cost about 900 bytes an article more)."""
    def build(copies: int, articles: int = 600):
        folder = tmp_path / f"dump-{copies}-{articles}"
        folder.mkdir()
        count = _short_dump(folder / "dump.jsonl", copies, articles)
        settings = Settings(index_dir=tmp_path / f"index-{copies}-{articles}",
                            read_part_bytes=64 * 1024,
                            parallel_min_bytes=1 << 40, writer_memory_mb=1,
                            min_run_postings=5_000, analysis_table_words=1_000_000)
        held = []

        def progress(done, total):
            if tracemalloc.is_tracing():
                held.append(tracemalloc.get_traced_memory()[0])

        report = index_paths([folder], settings, progress=progress)
        return settings, count, report, max(held, default=0), len(held)

    build(1, articles=601)  # the same words: the traced builds add none to the tables
    held = {}
    for copies in (1, 3):
        tracemalloc.start()
        try:
            settings, count, report, held[copies], parts = build(copies)
        finally:
            tracemalloc.stop()
        assert report.added == count and not report.problems
        assert parts >= 3 * copies  # read in parts
        with Engine(settings) as engine:
            assert engine.stats()["documents"] == count
            if copies > 1:  # the copies of an article are one cluster
                assert engine.stats()["duplicates"]["articles"] >= 0.9 * count
    per_article = (held[3] - held[1]) / (2 * 600)
    assert 0 < per_article < 2048, f"{per_article:.0f} bytes held per article"
