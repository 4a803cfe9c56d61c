"""Related articles ("more like this"): the distinctive terms of one article.

The article's title and the start of its text are analysed with the chain of
its language; each term is weighed by ``tf · sqrt(1 + N / df)`` (frequent in
the article, rare in the index). Terms held by one document only (the article
itself) or by more than ``related_max_df_share`` of the index, and terms
shorter than three letters, are not distinctive. The ``related_terms`` best
ones, OR-ed with their weights as boosts, find the related articles on either
backend; each backend gives the document frequencies of its own index.
"""

from __future__ import annotations

from collections import Counter

from ..analysis import chain_for


def related_terms(stored: dict, doc_frequency, documents: int, settings) -> list[tuple[float, str]]:
    """``(weight, term)`` of the most distinctive terms of ``stored``, best first.

    ``doc_frequency(term)`` gives the documents holding ``term`` in the text;
    ``documents`` is how many the index holds.
    """
    chain = chain_for(stored.get("lang"))
    text = stored.get("title", "") + "\n" + stored.get("text", "")[: settings.related_text_chars]
    counts = Counter(chain.terms(text))
    documents = max(1, documents)
    scored = []
    for term, tf in counts.items():
        if len(term) < 3:
            continue
        df = doc_frequency(term)
        if df <= 1 or df > documents * settings.related_max_df_share:
            continue
        scored.append((tf * (1 + documents / df) ** 0.5, term))
    scored.sort(reverse=True)
    return scored[: settings.related_terms]
