"""The fields of an indexed article, the same on every backend.

An article is stored with ``id``, ``title``, ``text``, ``date``, ``lang``,
``source``, ``category``, ``url`` and ``checksum``. Of those, these are
indexed as terms by the language chains (:mod:`search.analysis`) and the
facet fields are counted over every match of a search.
"""

# Fields that a search can be narrowed by, each counted as a facet.
FACET_FIELDS = ("month", "lang", "source", "category")
# The field that holds the parts of German compounds (see search.analysis.compounds).
PARTS_FIELD = "parts"
# Fields indexed from the term lists of the language chains: the article's
# title and text, and the parts of the compounds in them.
INDEXED_FIELDS = ("title", "text", PARTS_FIELD)
