"""Precision of the compound splitter on hand-checked words from the FANG corpus.

``benchmarks/data/compounds_gold.tsv`` holds 439 words drawn at random
(seed 2024) from the FANG-COVID vocabulary (words of 10+ letters found in 5+
articles), each checked by hand: ``word<TAB>fuß|ball|verbandes`` for a
compound (a ``|`` at every boundary between its parts, a linking element kept
with the part before it), ``-`` for a word that is no compound (derivations,
particle verbs, names), ``?`` for a word left out as unclear.

A split is right when every boundary it makes is a boundary of the word (it
may make fewer: ``fußball|verbandes`` is right). Prints word-level precision
(right splits among all splits made, false splits of non-compounds counted
as wrong), recall over the compounds, boundary precision, and the wrong
splits themselves.

    python benchmarks/quality_compounds.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import Stemmer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search.analysis.compounds import fold, german_splitter  # noqa: E402

GOLD = Path(__file__).resolve().parent / "data" / "compounds_gold.tsv"


def read_gold(path: Path = GOLD):
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            word, answer = line.split("\t")
            rows.append((word, answer))
    return rows


def _variants(prefix: str) -> set[str]:
    folded = fold(prefix)
    return {folded, folded.replace("ue", "u").replace("ae", "a").replace("oe", "o")}


def gold_boundaries(answer: str) -> set[str]:
    """The folded text before every boundary of a gold segmentation."""
    pieces = answer.split("|")
    found = set()
    for k in range(1, len(pieces)):
        found |= _variants("".join(pieces[:k]))
    return found


def measure(rows=None, splitter=None) -> dict:
    rows = read_gold() if rows is None else rows
    splitter = splitter or german_splitter()
    stem = Stemmer.Stemmer("german").stemWord
    right = wrong = missed = false_splits = 0
    boundaries_made = boundaries_right = 0
    compounds = non_compounds = 0
    errors = []
    for word, answer in rows:
        if answer == "?":
            continue
        term = stem(word)
        spans = splitter.segment(term)
        made = [term[:start] for start, _ in spans[1:]]
        if answer == "-":
            non_compounds += 1
            if made:
                false_splits += 1
                boundaries_made += len(made)
                errors.append((word, "no compound", " | ".join(term[s:e] for s, e in spans)))
            continue
        compounds += 1
        gold = gold_boundaries(answer)
        if not made:
            missed += 1
            continue
        good = [m for m in made if m in gold]
        boundaries_made += len(made)
        boundaries_right += len(good)
        if len(good) == len(made):
            right += 1
        else:
            wrong += 1
            errors.append((word, answer, " | ".join(term[s:e] for s, e in spans)))
    splits = right + wrong + false_splits
    return {
        "words": compounds + non_compounds,
        "compounds": compounds,
        "non_compounds": non_compounds,
        "splits_made": splits,
        "right": right,
        "wrong": wrong,
        "missed": missed,
        "false_splits": false_splits,
        "precision": round(right / splits, 4) if splits else 0.0,
        "precision_on_compounds": round(right / (right + wrong), 4) if right + wrong else 0.0,
        "recall": round(right / compounds, 4) if compounds else 0.0,
        "boundary_precision": round(boundaries_right / boundaries_made, 4) if boundaries_made else 0.0,
        "errors": errors,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    print(f"{result['words']} words checked by hand: {result['compounds']} compounds, "
          f"{result['non_compounds']} non-compounds")
    print(f"splits made {result['splits_made']}: right {result['right']}, wrong {result['wrong']}, "
          f"false splits of non-compounds {result['false_splits']}")
    print(f"precision {result['precision']:.3f} (on compounds alone {result['precision_on_compounds']:.3f}), "
          f"recall {result['recall']:.3f}, boundary precision {result['boundary_precision']:.3f}, "
          f"compounds left whole {result['missed']}")
    for word, answer, made in result["errors"]:
        print(f"  {word:32} expected {answer:34} split {made}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
