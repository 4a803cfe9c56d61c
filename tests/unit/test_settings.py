"""The settings table (search/settings.py): every tunable a field with a default, a group and
a line of help; ``Settings.describe()`` lists them all."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from search import Settings

GROUPS = {"index", "reading", "indexing", "ranking", "planning", "searching", "snippets",
          "suggestions", "duplicates", "whoosh", "caches", "backend", "xapian", "serving"}


def test_describe_lists_every_field_in_declaration_order():
    rows = Settings.describe()
    assert [row["name"] for row in rows] == [f.name for f in dataclasses.fields(Settings)]
    assert len(rows) >= 60


def test_every_setting_has_a_group_and_a_line_of_help():
    for row in Settings.describe():
        assert set(row) == {"name", "group", "default", "help"}, row
        assert row["group"] in GROUPS, row
        help_text = row["help"]
        assert isinstance(help_text, str) and len(help_text) >= 10, row
        assert help_text.rstrip().endswith("."), row  # a sentence
        assert "\n" not in help_text, row


def test_the_defaults_described_are_the_defaults_of_a_new_settings():
    defaults = Settings()
    for row in Settings.describe():
        assert getattr(defaults, row["name"]) == row["default"], row["name"]


def test_every_group_holds_settings():
    used = {row["group"] for row in Settings.describe()}
    assert used == GROUPS


def test_settings_are_frozen_and_changed_by_copy():
    settings = Settings(index_dir="somewhere")
    assert settings.index_dir == Path("somewhere")  # a str becomes a Path
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.per_page = 20
    changed = settings.with_changes(per_page=20, index_dir="elsewhere")
    assert (changed.per_page, changed.index_dir) == (20, Path("elsewhere"))
    assert (settings.per_page, settings.index_dir) == (10, Path("somewhere"))
    with pytest.raises(TypeError):
        settings.with_changes(no_such_setting=1)


def test_mutable_defaults_are_not_shared():
    first, second = Settings(), Settings()
    for row in Settings.describe():
        value = getattr(first, row["name"])
        if isinstance(value, (dict, list, set)):
            assert value is not getattr(second, row["name"]), row["name"]
