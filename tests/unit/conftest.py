"""Fixtures of the unit tests: real article records to feed the modules with.

Unit tests exercise one module at a time on small inputs, with no index or one
of a few articles in a temporary folder; where real text matters they read it
from the shared corpora.
"""

from __future__ import annotations

import pytest

from support.corpora import read_fang


@pytest.fixture(scope="session")
def fang000() -> list[dict]:
    """The 1,000 raw records of part-000 of fang-covid-real (German news, Jan–Mar 2020)."""
    return read_fang("part-000.jsonl.gz")
