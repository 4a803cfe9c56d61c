"""Analysis: words to index terms, the same for articles, queries and snippets.

- :mod:`.chains`: one chain per language (words, stopwords, Snowball stems).
- :mod:`.compounds`: the parts of German compounds.
- :mod:`.spelling`: the corpus vocabulary behind "Meinten Sie".
"""

from .chains import (WORD, LanguageChain, chain_for, has_stemmer, lowercase_keeps_words,
                     normalise_query_text, query_terms, spelling_variants, stopword_langs)

__all__ = ["WORD", "LanguageChain", "chain_for", "has_stemmer", "lowercase_keeps_words",
           "normalise_query_text", "query_terms", "spelling_variants", "stopword_langs"]
