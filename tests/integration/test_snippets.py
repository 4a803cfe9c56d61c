"""Snippets on real FANG-COVID hits: what is served is short, whole and cleanly joined.

About ``Settings.snippet_chars`` (300) characters over at most three passages,
each starting and ending at a whole word, joined by one ellipsis; a break after a
subheading reads as a full stop, a line broken in mid-sentence as a space. The
JSON API serves the same snippet the page shows.
"""

from __future__ import annotations

import html
import re
import statistics

from search import Settings
from search.analysis import chain_for
from search.highlight import snippet
from search.passages import cut
from web import create_app

QUERIES = ("Impfstoff", "Corona Schule", "Merkel", "Verkehrspolitik", "Grenze Italien",
           "Wirtschaft", "Quarantäne", "Bundesregierung Maßnahmen", "Coronavirus China",
           "Fußball")
# Three ellipses and their spaces beyond the budget, and the end of a word that a
# last match is part of (search.passages.WORD_OVER_CHARS).
SLACK = 8 + 40


def words(text: str) -> str:
    return " " + " ".join(re.findall(r"\w+", text)) + " "


def test_snippets_on_real_hits_are_short_whole_and_joined_once(news_engine):
    budget = news_engine.settings.snippet_chars
    lengths = []
    for query in QUERIES:
        for hit in news_engine.search(query, per_page=50, suggest=False).hits:
            plain = hit["snippet_text"]
            lengths.append(len(plain))
            assert len(plain) <= budget + SLACK, (query, len(plain), plain)
            assert html.unescape(re.sub(r"</?mark>", "", hit["snippet"])) == plain
            assert "\n" not in plain
            # One ellipsis per gap, never two in a row, never beside the text's own dots
            # or before a comma.
            assert not re.search(r"…\s*(…|\.\.\.|[,.;:])", plain), (query, plain)
            assert not re.search(r"(\.\.\.|…)\s*…", plain), (query, plain)
            fragments = [f.strip() for f in plain.split(" … ")]
            fragments[0] = fragments[0].removeprefix("… ")
            fragments[-1] = fragments[-1].removesuffix(" …")
            assert 1 <= len(fragments) <= news_engine.settings.snippet_fragments, plain
            # Every passage is whole words of the article, in its order.
            text = words(news_engine.article(hit["id"])["text"])
            for fragment in fragments:
                assert fragment and fragment[0] not in ",;:.!?)", (query, fragment)
                assert words(fragment) in text, (query, hit["id"], fragment)
    assert len(lengths) >= 400
    # Not cut to nothing either: most snippets use most of the budget.
    assert statistics.median(lengths) >= budget * 0.75, statistics.median(lengths)


def test_the_budget_is_a_setting(news_index):
    from search import Engine

    short = Engine(Settings(index_dir=news_index.index_dir, snippet_chars=120,
                            snippet_fragments=1))
    try:
        hits = short.search("Impfstoff", per_page=30, suggest=False).hits
        assert hits
        for hit in hits:
            assert len(hit["snippet_text"]) <= 120 + SLACK, hit["snippet_text"]
            assert " … " not in hit["snippet_text"].strip("… ")
    finally:
        short.close()


def test_subheadings_end_with_a_stop_and_broken_lines_join(news_engine):
    chain = chain_for("de")
    # A live blog: each entry has a subheading line above its text.
    text = news_engine.article("fang-15948")["text"]
    heading = "Sechs Bayern mit Coronavirus infiziert\n\nFreitag, 31. Januar"
    assert heading in text
    at = text.index(heading) + len("Sechs ")
    plain = cut(text, [(at, at + len("Bayern"))], fragments=3, chars=300)[1]
    assert "Sechs Bayern mit Coronavirus infiziert. Freitag, 31. Januar" in plain, plain
    # A text wrapped in mid-sentence: the line break is a space, no stop.
    text = news_engine.article("fang-10573")["text"]
    assert "habe die Bundesregierung\n\nUnterstützung" in text
    plain = snippet(text, frozenset(chain.terms("Unterstützung")), chain,
                    scan_chars=Settings().snippet_scan_chars, fast=True)[1]
    assert "habe die Bundesregierung Unterstützung in Millionenhöhe" in plain, plain


def test_api_serves_the_snippet_the_page_shows(news_index):
    client = create_app({"INDEX_DIR": news_index.index_dir, "TESTING": True}).test_client()
    found = client.get("/api/search?q=Impfstoff&per_page=5").get_json()
    page = client.get("/?q=Impfstoff&per_page=5").get_data(as_text=True)
    shown = re.findall(r'<p class="hit__snippet">(.*?)</p>', page, re.S)
    assert len(shown) == len(found["hits"]) == 5
    for hit, markup in zip(found["hits"], shown):
        assert html.unescape(markup) == html.unescape(hit["snippet"])
        assert len(hit["snippet_text"]) <= Settings().snippet_chars + SLACK
