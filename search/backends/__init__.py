"""Search backends: where the index lives and how a parsed query runs on it.

The engine (:mod:`search.engine`) parses, checks parameters, cuts snippets and
shapes results; a backend stores the analysed articles and answers compiled
queries. The interfaces are in :mod:`.base`; each backend lives in its own
package, and only that package imports its engine's library:

- ``whoosh`` (:mod:`.whoosh`): the embedded default, one index folder on one
  machine.
- ``xapian`` (:mod:`.xapian`): articles spread over N shards, each a Xapian
  database that ``xapian-tcpsrv`` can serve on its own machine and
  ``xapian-replicate`` can copy. Needs the ``xapian`` extra
  (``pip install 'newssearch[xapian]'``) and, for serving, Debian's
  ``xapian-tools``.

Analysis and query planning are ours on both (:mod:`search.analysis`,
:mod:`search.query.planning`), so a query means the same thing whichever
backend answers it. This module is the registry: it names the backends,
tells which one a folder or the settings ask for, and imports a backend only
when it is used (importing :mod:`search` loads neither engine).
"""

from __future__ import annotations

from importlib import import_module

from .. import cache
from ..indexing import InvalidSetting
from .xapian.layout import read_cluster

# name -> (module of the backend class, class name, module of the indexer, function name)
BACKENDS = {
    "whoosh": ("search.backends.whoosh.backend", "WhooshBackend",
               "search.backends.whoosh.indexer", "index_whoosh"),
    "xapian": ("search.backends.xapian.backend", "XapianBackend",
               "search.backends.xapian.indexer", "index_cluster"),
}
NEEDS = {"xapian": "the Xapian backend needs the Xapian bindings: "
                   "pip install 'newssearch[xapian]'"}


def backend_name(settings) -> str:
    """The backend ``settings`` ask for: ``settings.backend`` when given; else Xapian for
    remote shards, a cluster folder or a shard count, Whoosh for anything else."""
    if settings.backend is not None:
        if settings.backend not in BACKENDS:
            raise InvalidSetting(f"unknown backend {settings.backend!r}: use "
                                 f"{' or '.join(map(repr, BACKENDS))}")
        if settings.remote and settings.backend != "xapian":
            raise InvalidSetting("remote shards need the xapian backend")
        return settings.backend
    if settings.remote or settings.shards or read_cluster(settings.index_dir) is not None:
        return "xapian"
    return "whoosh"


def _load(name: str, module: str, attribute: str):
    try:
        return getattr(import_module(module), attribute)
    except ImportError as error:
        if name in NEEDS and error.name and error.name.split(".")[0] == name:
            raise RuntimeError(NEEDS[name]) from error
        raise


def open_backend(settings):
    """The backend ``settings`` ask for, opened for searching (see :mod:`.base`); the
    process-wide caches are sized by ``settings`` from now on (:func:`search.cache.configure`)."""
    name = backend_name(settings)
    cache.configure(settings)
    module, attribute = BACKENDS[name][:2]
    return _load(name, module, attribute)(settings)


def indexer_for(settings):
    """The indexing function of the backend ``settings`` ask for:
    ``index(paths, settings, *, rebuild, progress) -> IndexReport``."""
    name = backend_name(settings)
    if settings.remote:
        raise InvalidSetting("remote shards are searched, not indexed: index the cluster "
                             "folder the shards are served from")
    if settings.shards and name != "xapian":
        raise InvalidSetting("shards need the xapian backend")
    module, attribute = BACKENDS[name][2:]
    return _load(name, module, attribute)
