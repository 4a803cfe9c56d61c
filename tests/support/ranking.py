"""Where terms stand in an article's title and text, found by analysing its stored text.

The re-ranking reads these positions from the index
(:meth:`search.backends.base.Session.term_positions`); this is the same answer
computed from the text itself with the article's language chain, which the
tests compare the index's answer with (:func:`compare_features`, on the first hits
of queries drawn from real articles, :func:`remembered_queries`) and which the
features' unit tests use instead of an index.
"""

from __future__ import annotations

import random
import re

from search.analysis import chain_for
from search.query import parse
from search.ranking.features import QueryWords, features


def text_places(stored: dict, terms) -> dict:
    """``{"title": {term: positions}, "text": {term: positions}}`` of ``terms`` in the
    chains' terms of ``stored``'s title and text (positions count indexed words)."""
    chain = chain_for(stored.get("lang"))
    wanted = set(terms)
    places = {}
    for field in ("title", "text"):
        held: dict[str, list[int]] = {}
        for at, term in enumerate(chain.terms(stored.get(field) or "")):
            if term in wanted:
                held.setdefault(term, []).append(at)
        places[field] = held
    return places


def text_positions(stored_by_id: dict):
    """A ``term_positions(article ids, terms)`` (as a session has) answered from the
    stored fields in ``stored_by_id``."""
    def term_positions(article_ids, terms):
        return [text_places(stored_by_id[i], terms) if i in stored_by_id else {}
                for i in article_ids]
    return term_positions


WORD = re.compile(r"[^\W\d_]{4,}")


def remembered_queries(records, count: int, seed: int = 20241203) -> list[str]:
    """Two or three words of a real article each, in their order there, some from its
    title (word queries as a reader who remembers the article types them)."""
    rng = random.Random(seed)
    stop = chain_for("de").stopwords
    found = []
    for record in rng.sample(records, count):
        words = [w for w in WORD.findall(record["header"] + " " + record["article"][:2000])
                 if w.lower() not in stop]
        if len(words) < 6:
            continue
        at = rng.randrange(len(words) - 5)
        found.append(" ".join(words[at:at + 5:2][:rng.choice((2, 3))]))
    return found


def compare_features(engine, queries, depth: int = 30) -> dict:
    """Features from the index's positions against features from the analysed text, for
    the first ``depth`` hits of each query; answers what was compared."""
    seen = {"hits": 0, "window": 0, "pairs": 0, "title": 0}
    for text in queries:
        result = engine.search(text, per_page=depth, suggest=False, collapse=False)
        words = QueryWords(text.split())
        with engine.session() as session:
            # the strict reading searched in the same session first, as the engine does:
            # its hits' document numbers are known to the session, the others looked up
            session.run(session.compile(parse(text)), filters={}, start=0, limit=depth,
                        sort="relevance")
            stored = [session.document(hit["id"]) for hit in result.hits]
            terms = words.terms({s["lang"] for s in stored})
            places = session.term_positions([s["id"] for s in stored] + ["no-such-article"],
                                            terms)
        assert places[-1] == {}
        for article, held in zip(stored, places):
            expected = text_places(article, terms)
            assert held == expected, (text, article["id"])
            from_index = features(article, words, held)
            assert from_index == features(article, words, expected), (text, article["id"])
            seen["hits"] += 1
            for name, value in zip(("window", "pairs", "title"), from_index[1:]):
                seen[name] += value > 0
    return seen
