"""The web face of newssearch: a search page, article pages and a JSON API.

    from web import create_app
    app = create_app({"INDEX_DIR": "index"})

Everything the app needs is passed in: the index folder (``INDEX_DIR``) and/or
the engine settings (``SETTINGS``, a :class:`search.Settings`); any other keys
are Flask configuration. The app holds one :class:`search.Engine`, which
follows the index on disk, so a reindex shows without a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, current_app
from werkzeug.routing import BaseConverter

from search import Engine, Settings

EXTENSION = "newssearch"


class ArticleIdConverter(BaseConverter):
    """Article ids in paths: any string; in links every ``/``, ``?`` and ``#`` is quoted."""

    regex = ".+"
    part_isolating = False
    weight = 200

    def to_url(self, value: Any) -> str:
        return quote(str(value), safe="!$&'()*+,:;=@")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app for one index.

    ``config`` keys: ``INDEX_DIR`` (the index folder), ``SETTINGS`` (engine
    settings; ``INDEX_DIR`` overrides their ``index_dir``), plus Flask's own.
    """
    config = dict(config or {})
    settings = config.pop("SETTINGS", None)
    index_dir = config.pop("INDEX_DIR", None)
    if settings is None:
        settings = Settings(index_dir=Path(index_dir or "index"))
    elif not isinstance(settings, Settings):
        raise TypeError("SETTINGS must be a search.Settings")
    if index_dir is not None:
        settings = settings.with_changes(index_dir=Path(index_dir))

    app = Flask(__name__)
    app.config.update(JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=settings.http_max_body_bytes)
    app.config.update(config)
    app.url_map.converters["article_id"] = ArticleIdConverter
    app.url_map.merge_slashes = False
    app.jinja_env.autoescape = True
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    app.extensions[EXTENSION] = Engine(settings)

    from . import api, errors, feed, pages, present, protocol, research

    app.jinja_env.filters.update(present.FILTERS)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(research.blueprint)
    app.register_blueprint(feed.blueprint)
    errors.install(app)
    protocol.install(app)
    return app


def engine() -> Engine:
    """The engine of the app handling the current request."""
    return current_app.extensions[EXTENSION]


__all__ = ["create_app", "engine"]
