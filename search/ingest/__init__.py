"""Ingestion: files and folders in, cleaned :class:`Article` records out.

- :mod:`.corpus` finds the files of the given paths and reads every input
  format into articles, reporting each file or line it cannot read as a
  :class:`Problem` instead of raising; record files are cut into parts that
  worker processes read (:mod:`.records` for JSON Lines and CSV, :mod:`.warc`
  for web crawls), so memory does not grow with a file.
- :mod:`.pages` takes the main text and metadata out of a web page.
- :mod:`.clean` normalises text (Unicode, entities, white space, paragraphs)
  and parses dates; :mod:`.decoding` turns bytes into text.
- :mod:`.language` tells the language of an article: a cheap function-word
  check first, langdetect only when that is not sure.
"""

from .articles import Article, Part, Problem, Tally
from .corpus import RECORD_SUFFIXES, file_parts, find_files, read_file, read_part
from .language import detect_language

__all__ = ["Article", "Part", "Problem", "RECORD_SUFFIXES", "Tally", "detect_language",
           "file_parts", "find_files", "read_file", "read_part"]
