"""Main-text extraction on real German web pages: newssearch, trafilatura and readability.

Data: ``../shared/corpora/web-pages-de`` (read its SOURCE.md): 279 saved pages with,
for each, passages of the article that a good extractor keeps (``with``) and pieces of
boilerplate that it must drop (``without``). Scored as in trafilatura's own evaluation,
over all pages: a ``with`` string found in the extracted text is a true positive (else a
false negative), a ``without`` string found is a false positive. Both sides are compared
whitespace-normalised and in NFC.

Extractors, each given the page's bytes:

- ``newssearch``: ``search.ingest.pages.extract_page``, scored on title + text as stored;
- ``trafilatura``: ``trafilatura.extract(page, with_metadata=True)`` alone (the output
  SOURCE.md reports);
- ``readability``: readability-lxml's ``Document``: title + the text of ``summary()``.

Pages/s is each extractor's whole pass over the 279 pages in this run (one process,
pages read into memory first), so the three figures share the machine's load.

    python benchmarks/extract_eval.py [--corpus DIR] [--only newssearch,trafilatura,readability]
        [--errors]    # list every with-string missed and without-string kept by newssearch
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpora" / "web-pages-de"


@dataclass(frozen=True)
class JudgedPage:
    url: str
    file: str
    markup: bytes
    keep: tuple[str, ...]  # "with": passages of the article
    drop: tuple[str, ...]  # "without": boilerplate


@dataclass(frozen=True)
class Figures:
    name: str
    true_positives: int
    false_negatives: int
    false_positives: int
    true_negatives: int
    seconds: float
    pages: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 0.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def load_corpus(folder: Path = DEFAULT_CORPUS) -> list[JudgedPage]:
    """The judged pages; a missing corpus stops with a message that says where it was looked for."""
    folder = Path(folder)
    judgments = folder / "evaldata.json"
    if not judgments.is_file():
        raise FileNotFoundError(
            f"web-pages-de corpus not found: expected {judgments} (the shared corpora sit "
            f"beside the checkout, see ../shared/corpora/web-pages-de/SOURCE.md)")
    data = json.loads(judgments.read_text(encoding="utf-8"))
    return [JudgedPage(url=url, file=item["file"], markup=(folder / "eval" / item["file"]).read_bytes(),
                       keep=tuple(item["with"]), drop=tuple(item["without"]))
            for url, item in data.items()]


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def score(name: str, extract, pages: list[JudgedPage]) -> tuple[Figures, list[tuple[str, str, str]]]:
    """Run ``extract(markup, url) -> str`` over ``pages``; the figures and each error
    as ``(kind, file, string)`` with kind ``missed`` or ``kept``."""
    started = time.perf_counter()
    outputs = [extract(page.markup, page.url) or "" for page in pages]
    seconds = time.perf_counter() - started
    tp = fn = fp = tn = 0
    errors = []
    for page, output in zip(pages, outputs):
        text = normalise(output)
        for passage in page.keep:
            if normalise(passage) in text:
                tp += 1
            else:
                fn += 1
                errors.append(("missed", page.file, passage))
        for boilerplate in page.drop:
            if normalise(boilerplate) in text:
                fp += 1
                errors.append(("kept", page.file, boilerplate))
            else:
                tn += 1
    return Figures(name, tp, fn, fp, tn, seconds, len(pages)), errors


def newssearch_text(markup: bytes, url: str) -> str:
    from search.ingest.pages import extract_page

    return stored_text(extract_page(markup, url))


def stored_text(result) -> str:
    """What newssearch stores of a page: its title and text (nothing for a failure)."""
    from search.ingest.pages import Page

    return f"{result.title}\n{result.text}" if isinstance(result, Page) else ""


def trafilatura_text(markup: bytes, url: str) -> str:
    import trafilatura

    return trafilatura.extract(markup, url=url, with_metadata=True) or ""


def readability_text(markup: bytes, url: str) -> str:
    from lxml.html import fromstring
    from readability import Document

    try:
        document = Document(markup, url=url)
        summary = document.summary(html_partial=True)
        return f"{document.title()}\n{fromstring(summary).text_content()}"
    except Exception:  # readability gives up on some pages: nothing extracted
        return ""


EXTRACTORS = {"newssearch": newssearch_text, "trafilatura": trafilatura_text,
              "readability": readability_text}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--only", default=",".join(EXTRACTORS))
    parser.add_argument("--errors", action="store_true")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # the extractors log every page they find odd
    try:
        pages = load_corpus(args.corpus)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in EXTRACTORS]
    if unknown:
        parser.error(f"unknown extractor(s): {', '.join(unknown)}")
    for name in names:  # one page each first: imports and lazy set-up are not timed
        EXTRACTORS[name](pages[0].markup, pages[0].url)
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    print(f"{len(pages)} pages from {args.corpus}; {started}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'extractor':12s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'pages/s':>8s}"
          f"   tp/fn/fp/tn")
    results = {}
    for name in names:
        figures, errors = score(name, EXTRACTORS[name], pages)
        results[name] = figures
        print(f"{name:12s} {figures.precision:9.3f} {figures.recall:7.3f} {figures.f1:6.3f} "
              f"{figures.pages_per_second:8.1f}   {figures.true_positives}/"
              f"{figures.false_negatives}/{figures.false_positives}/{figures.true_negatives}")
        if args.errors and name == "newssearch":
            for kind, file, text in errors:
                print(f"    {kind:6s} {file}: {text}")
    print(json.dumps({"command": " ".join(["python", "benchmarks/extract_eval.py"] + (argv or sys.argv[1:])),
                      "started": started, "load": os.getloadavg()[0],
                      **{name: {"precision": round(f.precision, 4), "recall": round(f.recall, 4),
                                "f1": round(f.f1, 4), "pages_per_s": round(f.pages_per_second, 2)}
                         for name, f in results.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
