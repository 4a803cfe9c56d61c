"""Analysis: words to index terms, the same for articles, queries and snippets.

- :mod:`.chains`: one chain per language (words, stopwords, Snowball stems).
- :mod:`.compounds`: the parts of German compounds.
- :mod:`.spelling`: the corpus vocabulary behind "Meinten Sie".
"""

from .chains import (WORD, LanguageChain, chain_for, has_stemmer, lowercase_keeps_words,
                     normalise_query_text, query_terms, spelling_variants, stopword_langs)

__all__ = ["WORD", "LanguageChain", "chain_for", "has_stemmer", "lowercase_keeps_words",
           "normalise_query_text", "query_terms", "spelling_variants", "stopword_langs"]


def __getattr__(name):
    # Whoosh indexes written before the analyzer moved into the Whoosh backend name
    # ``search.analysis.NewsAnalyzer`` in their pickled schema; they open unchanged.
    if name == "NewsAnalyzer":
        from ..backends.whoosh.analyzer import NewsAnalyzer

        return NewsAnalyzer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
