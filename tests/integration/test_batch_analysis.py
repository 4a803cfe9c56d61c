"""The batch analysis gives what the language chains give article by article.

:mod:`search.analysis.batch` analyses many articles at once with array
operations; for every article it must give the same terms in the same positions
as :meth:`LanguageChain.terms`, the same compound parts as
:meth:`LanguageChain.compound_parts` and the same vocabulary words as
:func:`spelling.surface_words`, whatever the languages mixed in the batch, and
after its tables start again. Real articles from the shared corpora (a missing
corpus fails the test).
"""

from __future__ import annotations

import gzip
import json
import pickle
from collections import Counter

from search.analysis.batch import BatchAnalyser
from search.analysis.chains import chain_for
from search.analysis.spelling import surface_words
from support.corpora import shared_corpus, shared_file


def _articles() -> list[tuple[str, str, str]]:
    """German, English and French articles interleaved, and texts at the edges of the
    word rules: lowercasing that changes words (İ, Σ), digits inside words, numerals
    that are no digits, words over the length limits, empty fields."""
    german = []
    for part in ("part-019.jsonl.gz", "part-004.jsonl.gz"):
        with gzip.open(shared_file("fang-covid-real", part), "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle):
                if number >= 150:
                    break
                record = json.loads(line)
                german.append(("de", record["header"], record["article"]))
    english = [("en", p.name, p.read_bytes().decode("utf-8", errors="replace"))
               for p in sorted(shared_corpus("bbc-en").rglob("*.txt"))[:60]]
    french = []
    with open(shared_file("lemonde-rss-fr", "lemonde_economie_2022.jsonl"), encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number >= 60:
                break
            record = json.loads(line)
            french.append(("fr", record["title"], record["description"]))
    mixed = []
    for number, article in enumerate(german):
        mixed.append(article)
        if number % 3 == 0 and english:
            mixed.append(english.pop())
        if number % 4 == 0 and french:
            mixed.append(french.pop())
    mixed += english + french
    mixed += [
        ("de", "İSTANBUL ΟΔΟΣ", "Σ-Häuser 2020er Flüchtlingspolitik İzmir Bundestagswahl und "
         "COVID19-Lage " + "a" * 70),
        ("de", "Abc123def und x²y", "Straße ½Jahr 3D-Druck ab Ökö " + "b" * 95 + " Ende"),
        ("de", "", ""),
        ("xx", "Ohne Stemmer", "Wörter bleiben Wörter, Häuser bleiben Häuser"),
        ("de", "Nur Stoppwörter", "und oder aber der die das"),
    ]
    return mixed


def _expected(lang: str, title: str, text: str) -> dict:
    chain = chain_for(lang)
    title_terms, text_terms = chain.terms(title), chain.terms(text)
    return {"title": title_terms, "text": text_terms,
            "parts": Counter(chain.compound_parts(title_terms + text_terms)),
            "words": surface_words(title + "\n" + text)}


def _check(batches, articles) -> int:
    words: Counter = Counter()
    compounds = 0
    at = 0
    for batch in batches:
        for number in range(batch.size):
            lang, title, text = articles[at]
            expected = _expected(lang, title, text)
            got = batch.term_lists(number)
            assert got["title"] == expected["title"], (at, title)
            assert got["text"] == expected["text"], (at, title)
            assert Counter(got["parts"]) == expected["parts"], (at, title)
            lengths = {name: int(batch.fields[name].lengths[number]) for name in batch.fields}
            assert lengths == {"title": len(expected["title"]), "text": len(expected["text"]),
                               "parts": sum(expected["parts"].values())}
            compounds += sum(expected["parts"].values())
            words.update(expected["words"])
            if batch.document_words is not None:
                assert batch.words_of(number) == expected["words"], (at, title)
            at += 1
    assert at == len(articles)
    merged: Counter = Counter()
    for batch in batches:
        merged.update(batch.words)
    assert merged == words
    return compounds


def test_one_batch_of_mixed_languages_equals_the_chains():
    articles = _articles()
    batch = BatchAnalyser().analyse(articles, document_words=True)
    assert batch.size == len(articles)
    assert _check([batch], articles) > 1000
    # what a worker sends to the indexer: the same after pickling
    again = pickle.loads(pickle.dumps(batch))
    assert [again.term_lists(n) for n in range(0, batch.size, 37)] == \
        [batch.term_lists(n) for n in range(0, batch.size, 37)]


def test_batches_after_the_tables_start_again_equal_the_chains():
    articles = _articles()
    analyser = BatchAnalyser(table_limit=2000)
    batches = [analyser.analyse(articles[begin:begin + 50])
               for begin in range(0, len(articles), 50)]
    _check(batches, articles)


def test_grouped_positions_belong_to_their_terms():
    articles = _articles()[:40]
    batch = BatchAnalyser().analyse(articles)
    for number, (lang, title, text) in enumerate(articles):
        terms = chain_for(lang).terms(text)
        grouped_terms, counts, flat = batch.grouped(number)["text"]
        assert sum(counts) == len(flat) == len(terms)
        at = 0
        for term, count in zip(grouped_terms, counts):
            positions = flat[at:at + count]
            assert positions == sorted(positions)
            assert all(terms[p] == term for p in positions)
            at += count


def test_xapian_documents_from_a_batch_hold_each_articles_chain_terms():
    """A Xapian shard builds each document from the batch: every term with the
    positions, weight (wdf) and combined-field weight the article's own chain
    terms give."""
    from search.backends.xapian import document as xd
    from search.ingest.corpus import Article

    articles = _articles()[:80]
    batch = BatchAnalyser().analyse(articles)
    normalisation = {"averages": {"title": 9.0, "text": 310.0, "parts": 40.0}, "b": 0.75,
                     "boosts": {"title": 2.0, "text": 1.0, "parts": 0.5}}
    averages, b, boosts = normalisation["averages"], 0.75, normalisation["boosts"]
    for number, (lang, title, text) in enumerate(articles):
        article = Article(id=f"a{number}", title=title, text=text)
        doc = xd.build_document(article, lang, "digest", normalisation, batch.grouped(number))
        got = {t.term.decode("utf-8", "surrogatepass"): (t.wdf, list(t.positer))
               for t in doc.termlist()}
        chain = chain_for(lang)
        fields = {"title": chain.terms(title), "text": chain.terms(text)}
        fields["parts"] = chain.compound_parts(fields["title"] + fields["text"])
        expected: dict = {}
        combined: Counter = Counter()
        for field, prefix in xd.FIELD_PREFIXES.items():
            terms = fields[field]
            norm = xd.length_norm(len(terms), averages[field], b)
            for term, tf in Counter(terms).items():
                positions = [p + 1 for p, t in enumerate(terms) if t == term] \
                    if field != "parts" else []
                if len((prefix + term).encode("utf-8", "surrogatepass")) <= xd.MAX_TERM_BYTES:
                    expected[prefix + term] = (xd.scaled_wdf(tf, len(terms), averages[field], b),
                                               positions)
                combined[term] += boosts[field] * tf / norm
        for term, weight in combined.items():
            if len((xd.COMBINED + term).encode("utf-8", "surrogatepass")) <= xd.MAX_TERM_BYTES:
                expected[xd.COMBINED + term] = (max(1, round(xd.WDF_SCALE * weight)), [])
        weighted = {term: value for term, value in got.items() if value[0] > 0}
        assert weighted == expected, (number, title)
