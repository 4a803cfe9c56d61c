"""Search backends: where the index lives and how a parsed query runs on it.

The engine (:mod:`search.engine`) parses, checks parameters, cuts snippets and
shapes results; a backend stores the analysed articles and answers compiled
queries. Two backends exist:

- ``whoosh``: the embedded default, one index folder on one machine
  (:mod:`search.backends.whoosh`).
- ``xapian``: articles spread over N shards, each a Xapian database that can
  be served by ``xapian-tcpsrv`` on its own machine and replicated with
  ``xapian-replicate`` (:mod:`search.backends.xapian_cluster`). Needs the
  ``xapian`` extra (``pip install 'newssearch[xapian]'``) and, for serving,
  Debian's ``xapian-tools``.

Analysis is ours on both: the terms come from :mod:`search.analysis`, so a
query means the same thing whichever backend answers it.
"""
