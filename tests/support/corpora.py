"""The corpora the tests read: the sample corpus in ``corpus/`` and the real corpora in
``../shared/corpora`` beside the checkout (or in ``$NEWSSEARCH_CORPORA``).

A test that needs a shared corpus that is missing fails with a message saying
where it was looked for; it never skips.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CORPUS = REPO / "corpus"
SHARED_CORPORA = Path(os.environ.get("NEWSSEARCH_CORPORA", REPO.parent / "shared" / "corpora"))

# A chronological slice of the German news corpus: 2020-01-29 … 2020-03.
FANG_PARTS = ("part-000.jsonl.gz", "part-001.jsonl.gz")
SEED_FILE = "000_edced858fe0a0ea0.txt"
# The first rows of the 10kGNAD test split go into the shared index (categories, no dates).
GNAD_ROWS = 300


def shared_corpus(name: str) -> Path:
    """A corpus of the shared corpora; the test fails (never skips) when it is missing."""
    path = SHARED_CORPORA / name
    if not path.is_dir():
        pytest.fail(f"shared corpus {name!r} is missing: expected it at {path} "
                    f"(the tests read the real corpora from ../shared/corpora beside the "
                    f"repository, or from $NEWSSEARCH_CORPORA)", pytrace=False)
    return path


def shared_file(corpus: str, *parts: str) -> Path:
    """A file of a shared corpus; fails like :func:`shared_corpus` when it is missing."""
    path = shared_corpus(corpus).joinpath(*parts)
    if not path.exists():
        pytest.fail(f"file {path} of the shared corpus {corpus!r} is missing", pytrace=False)
    return path


def read_records(paths) -> list[dict]:
    """The records of gzipped JSON-lines files, as the JSON holds them."""
    records = []
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            records.extend(json.loads(line) for line in handle if line.strip())
    return records


def read_fang(part: str) -> list[dict]:
    """The raw records of one part of fang-covid-real."""
    return read_records([shared_file("fang-covid-real", part)])


def read_gnad() -> list[list[str]]:
    """The rows (category, text) of the 10kGNAD test split, read with the csv module."""
    with open(shared_file("10kgnad-test", "test.csv"), encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=";", quotechar="'"))


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target
