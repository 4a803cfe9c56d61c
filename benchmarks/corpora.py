"""The benchmark's corpora: the real FANG articles and a seeded scale corpus made from them.

The scale corpus keeps the shape of real news: every article takes a real
article as its template (title, date, source, number of paragraphs and of
sentences in each) and fills it with real sentences drawn at random from the
whole FANG corpus. It is written once, as gzip JSON Lines parts of 1,000
articles, to a cache folder outside the repository.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_FANG = HERE.parent.parent / "shared" / "corpora" / "fang-covid-real"
PART_SIZE = 1000
SEED = 20240601
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"„»(]?[A-ZÄÖÜ0-9])")


def fang_parts(fang_dir: Path) -> list[Path]:
    parts = sorted(Path(fang_dir).glob("part-*.jsonl.gz"))
    if not parts:
        raise SystemExit(f"no FANG corpus at {fang_dir} (expected part-*.jsonl.gz)")
    return parts


def fang_records(fang_dir: Path, limit: int | None = None):
    count = 0
    for part in fang_parts(fang_dir):
        with gzip.open(part, "rt", encoding="utf-8") as handle:
            for line in handle:
                if limit is not None and count >= limit:
                    return
                yield json.loads(line)
                count += 1


def write_parts(records, folder: Path) -> int:
    """Write ``records`` as ``part-NNN.jsonl.gz`` files of 1,000 each; returns the count."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    handle = None
    for record in records:
        if count % PART_SIZE == 0:
            if handle is not None:
                handle.close()
            handle = gzip.open(folder / f"part-{count // PART_SIZE:03d}.jsonl.gz", "wt",
                               encoding="utf-8", compresslevel=3)
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    if handle is not None:
        handle.close()
    return count


def real_corpus(fang_dir: Path, cache: Path, docs: int | None) -> tuple[Path, int]:
    """The real corpus, or its first ``docs`` articles copied to the cache."""
    total = 28041
    if docs is None or docs >= total:
        count = 0
        for part in fang_parts(fang_dir):
            with gzip.open(part, "rb") as handle:
                count += sum(1 for _ in handle)
        return Path(fang_dir), count
    folder = cache / f"fang-first-{docs}"
    done = folder / "DONE"
    if not done.exists():
        for old in folder.glob("*.jsonl.gz"):
            old.unlink()
        write_parts(fang_records(fang_dir, docs), folder)
        done.write_text(str(docs))
    return folder, docs


def scale_corpus(fang_dir: Path, cache: Path, docs: int, seed: int = SEED) -> Path:
    """``docs`` synthetic articles of real sentences, made once per (docs, seed)."""
    folder = cache / f"scale-{docs}-seed{seed}"
    done = folder / "DONE"
    if done.exists():
        return folder
    for old in folder.glob("*.jsonl.gz"):
        old.unlink()
    templates = []
    pool: list[str] = []
    for record in fang_records(fang_dir):
        shape = []
        for paragraph in record["article"].split("\n"):
            sentences = [s for s in _SENTENCE.split(paragraph.strip()) if s]
            if sentences:
                pool.extend(sentences)
                shape.append(len(sentences))
        templates.append((record["header"], record["date"], record["day"], record["source"],
                          record["url"], tuple(shape)))
    rng = random.Random(seed)

    def records():
        for number in range(docs):
            title, date, day, source, url, shape = templates[rng.randrange(len(templates))]
            paragraphs = [" ".join(pool[rng.randrange(len(pool))] for _ in range(n)) for n in shape]
            yield {"id": f"scale-{number}", "source": source, "date": date, "day": day,
                   "url": f"{url}#scale-{number}", "header": title,
                   "article": "\n".join(paragraphs)}

    write_parts(records(), folder)
    done.write_text(str(docs))
    return folder
