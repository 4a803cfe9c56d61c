"""The query language: text to a backend-neutral tree (:mod:`.syntax`), and the rules
that turn its words into index terms on every backend (:mod:`.planning`)."""

from .syntax import (FIELDS, FILTER_FIELDS, TEXT_FIELDS, And, DateRange, Filter, Not, Or, Phrase,
                    Word, is_plain_conjunction, parse, plain_words, words_of)

__all__ = ["FIELDS", "FILTER_FIELDS", "TEXT_FIELDS", "And", "DateRange", "Filter", "Not", "Or",
           "Phrase", "Word", "is_plain_conjunction", "parse", "plain_words", "words_of"]
