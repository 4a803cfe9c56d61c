"""Ingestion: files and folders in, cleaned :class:`Article` records out.

- :mod:`.corpus` finds the files of the given paths and reads every input
  format into articles, reporting each file or line it cannot read as a
  :class:`Problem` instead of raising.
- :mod:`.clean` normalises text (Unicode, entities, white space, paragraphs),
  reads HTML and parses dates.
- :mod:`.language` tells the language of an article: a cheap function-word
  check first, langdetect only when that is not sure.
"""

from .corpus import Article, Problem, find_files, read_file
from .language import detect_language

__all__ = ["Article", "Problem", "detect_language", "find_files", "read_file"]
