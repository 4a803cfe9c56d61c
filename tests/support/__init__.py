"""Code the tests of every layer share (importable as ``support``: pytest puts
``tests/`` on the path, see ``pythonpath`` in pyproject.toml).

- :mod:`support.corpora`: the sample corpus and the real corpora in
  ``../shared/corpora`` (a test fails, never skips, when one is missing).
- :mod:`support.commands`: the ``newssearch`` command as a subprocess, waiting,
  ports, file descriptors.
- :mod:`support.server`: ``newssearch serve`` on 127.0.0.1.
- :mod:`support.searching`: every hit of a search, page by page.
- :mod:`support.shapes`: the documented shapes of results, hits and errors;
  markup that could run script.
- :mod:`support.payloads`: articles carrying script payloads.
- :mod:`support.fuzz`: generated query text (hypothesis strategies).
- :mod:`support.xapian`: shard servers and queries of the Xapian tests.
- :mod:`support.benchmarks`: the scripts of ``benchmarks/`` as modules.
- :mod:`support.ranking`: where terms stand in an article, from its stored text.

Fixtures live in each layer's ``conftest.py``; no test imports a conftest.
"""
