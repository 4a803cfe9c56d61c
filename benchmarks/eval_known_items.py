"""Known-item queries from FANG-COVID: three words of an article a reader remembers find it.

For a fixed random sample of articles (seed 20240601), three words are drawn
from the article's text and become three query sets that expect the same
article:

- ``exact``: the words as the article writes them;
- ``inflected``: every word in another inflection found in the corpus
  (``Regierung`` → ``Regierungen``, ``neuen`` → ``neue``), made by swapping
  German endings, never by the engine's own stemmer, so the set does not
  favour any one stemmer; the most frequent existing form wins;
- ``umlaut``: the exact words with ``ä ö ü ß`` typed as ``ae oe ue ss``
  (every query holds at least one such word).

A word is a candidate when it has 5+ letters, is no stopword and appears in
2 to 300 articles. The words are drawn once per article, whatever else the
corpus holds: other articles may hold the same words, in the same or other
forms (another outlet's story of the same day, a longer article on the same
subject), as they do for a reader who remembers an article. Those are the
hard cases, and they stay.

An article is passed over only when it has a near-identical copy: the same
text from another outlet, or an update of it, where no ranking can tell
which one was meant. Two articles are copies when their 5-word shingles
overlap by a Jaccard index of 0.5 or more, or 80 % of the smaller one's
shingles are in the larger (measured exactly, in one pass over the corpus).
Articles are drawn in a fixed random order (seed 20240601) until ``--count``
items are found.

The endings swapped for ``inflected`` keep a word a form of itself:
``er``/``ern`` only among themselves and adjective endings (``Politiker`` never
becomes ``Politik``, ``Wirtschaftspolitik`` never ``Wirtschaftspolitikern``), a
verb ending is never dropped (``schnellte`` never becomes ``schnell``,
``seitens`` never ``seit``) and a bare word takes only noun and adjective
endings.

The files written to ``--out`` are ``queries.<set>.jsonl``
(``{"qid", "text"}``) and one ``qrels.trec`` (``qid 0 fang-<n> 1``; the qids
of the three sets share the article's judgment).

    python benchmarks/eval_known_items.py --corpus ../shared/corpora/fang-covid-real \\
        --out /tmp/known-items [--count 1000] [--seed 20240601]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

from whoosh.lang.stopwords import stoplists

WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
UMLAUT = re.compile(r"[äöüßÄÖÜ]")
SEED = 20240601
WORDS_PER_QUERY = 3
MIN_CHARS = 5
MIN_DF, MAX_DF = 2, 300
# Two articles are near-identical copies (the same text from another outlet, or an update)
# when their 5-word shingles overlap this much: Jaccard, or the share of the smaller
# article's shingles found in the larger.
SHINGLE_WORDS = 5
COPY_JACCARD = 0.5
COPY_CONTAINMENT = 0.8
# Inflectional endings of German nouns, adjectives and verbs that are swapped
# for one another (see the rules in _allowed).
ENDINGS = ("", "e", "en", "em", "er", "es", "n", "s", "ern", "ens", "st", "t", "et", "te", "ten")
_ADJECTIVE = {"e", "en", "em", "er", "es"}
_COMPARATIVE = {"er", "ern"}
_VERB = {"st", "t", "et", "te", "ten", "ens"}
_BARE_TAKES = {"e", "en", "em", "es", "n", "s"}
_SPELLED = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
SETS = ("exact", "inflected", "umlaut")


def read_articles(corpus: Path):
    for path in sorted(corpus.glob("part-*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                yield record["id"], record.get("header", ""), record["article"]


def spelled_out(word: str) -> str:
    return word.translate(_SPELLED)


def _allowed(old: str, new: str) -> bool:
    if old == new:
        return False
    if old in _COMPARATIVE or new in _COMPARATIVE:
        # Politiker ↔ Politikern, neuer ↔ neue; never Politik → Politiker(n).
        return {old, new} <= _ADJECTIVE | _COMPARATIVE
    if old in _VERB and new == "":
        return False  # schnellte → schnell, seitens → seit
    if old == "":
        return new in _BARE_TAKES
    return True


def inflections(word: str, known: Counter, min_count: int = 2) -> list[str]:
    """Other forms of ``word`` (lowercase) that the corpus holds, most frequent first."""
    found = {}
    for old in ENDINGS:
        if old and not word.endswith(old):
            continue
        base = word[: len(word) - len(old)] if old else word
        if len(base) < 4:
            continue
        for new in ENDINGS:
            if not _allowed(old, new):
                continue
            candidate = base + new
            if candidate != word and known.get(candidate, 0) >= min_count:
                found[candidate] = known[candidate]
    return sorted(found, key=lambda w: (-found[w], w))


def with_case(form: str, like: str) -> str:
    return form[:1].upper() + form[1:] if like[:1].isupper() else form


def shingles(words, size: int = SHINGLE_WORDS) -> set[int]:
    """The hashed ``size``-word shingles of a list of lowercase words."""
    if len(words) < size:
        return {hash(tuple(words))} if words else set()
    return {hash(tuple(words[i:i + size])) for i in range(len(words) - size + 1)}


def near_copies(targets: dict[int, set[int]], documents) -> dict[int, list[tuple[int, float, float]]]:
    """For each target (number -> its shingles), the other articles that are near-identical
    copies of it: ``(number, jaccard, containment of the smaller in the larger)``.

    Exact, in one pass over the corpus: every shingle of a target points to that target,
    and each article counts the shingles it shares with each target.
    """
    owners: dict[int, list[int]] = {}
    for number, grams in targets.items():
        for gram in grams:
            owners.setdefault(gram, []).append(number)
    found: dict[int, list] = {number: [] for number in targets}
    for number, words in enumerate(documents):
        grams = shingles(words)
        shared: Counter = Counter()
        for gram in grams:
            hit = owners.get(gram)
            if hit:
                shared.update(hit)
        for target, common in shared.items():
            if target == number:
                continue
            size = len(targets[target])
            jaccard = common / (size + len(grams) - common)
            containment = common / max(1, min(size, len(grams)))
            if jaccard >= COPY_JACCARD or containment >= COPY_CONTAINMENT:
                found[target].append((number, round(jaccard, 3), round(containment, 3)))
    return found


def generate(corpus: Path, count: int, seed: int, stats: dict | None = None):
    """``(items, number of articles)``; ``stats`` (when given) receives how many sampled
    articles were passed over for want of candidates and for having a near-identical copy."""
    stop = set(stoplists["de"])
    stop |= {spelled_out(w) for w in stop}
    documents = []
    for doc_id, title, text in read_articles(corpus):
        documents.append((doc_id, WORD.findall(text)))
    if not documents:
        raise SystemExit(f"no FANG articles under {corpus}")
    # Document frequency in the text (as the candidates are drawn from the text).
    df: Counter = Counter()
    for _, words in documents:
        df.update({w.lower() for w in words})
    rng = random.Random(seed)
    order = list(range(len(documents)))
    rng.shuffle(order)
    drawn = []
    few_words = 0
    # Twice as many draws as items wanted: those whose article has a near-identical copy
    # are passed over afterwards, in the same order.
    for index in order:
        if len(drawn) >= 2 * count:
            break
        doc_id, words = documents[index]
        first_form = {}
        for word in words:
            lowered = word.lower()
            if (len(word) >= MIN_CHARS and lowered not in stop and MIN_DF <= df[lowered] <= MAX_DF
                    and lowered not in first_form):
                first_form[lowered] = word
        candidates = [w for w in first_form if inflections(w, df)]
        with_umlaut = [w for w in candidates if UMLAUT.search(w)]
        if len(candidates) < WORDS_PER_QUERY or not with_umlaut:
            few_words += 1
            continue
        first = rng.choice(sorted(with_umlaut))
        rest = rng.sample(sorted(set(candidates) - {first}), WORDS_PER_QUERY - 1)
        chosen = [w for w in first_form if w in {first, *rest}]  # text order
        exact = [first_form[w] for w in chosen]
        inflected = [with_case(inflections(w, df)[0], first_form[w]) for w in chosen]
        drawn.append((index, doc_id, exact, inflected))
    lowered = [[w.lower() for w in words] for _, words in documents]
    copies = near_copies({index: shingles(lowered[index]) for index, *_ in drawn}, lowered)
    items, with_copy = [], 0
    for index, doc_id, exact, inflected in drawn:
        if len(items) >= count:
            break
        if copies[index]:
            with_copy += 1
            continue
        items.append((doc_id, exact, inflected))
    if stats is not None:
        stats.update(few_words=few_words, near_copy=with_copy)
    return items, len(documents)


def write(items, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    handles = {name: open(out / f"queries.{name}.jsonl", "w", encoding="utf-8") for name in SETS}
    with open(out / "qrels.trec", "w", encoding="utf-8") as qrels:
        for number, (doc_id, exact, inflected) in enumerate(items, start=1):
            texts = {"exact": " ".join(exact), "inflected": " ".join(inflected),
                     "umlaut": " ".join(spelled_out(w) for w in exact)}
            for name in SETS:
                qid = f"{name}-{number:05d}"
                handles[name].write(json.dumps({"qid": qid, "text": texts[name]}, ensure_ascii=False) + "\n")
                qrels.write(f"{qid} 0 {doc_id} 1\n")
    for handle in handles.values():
        handle.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "corpora" / "fang-covid-real")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"FANG-COVID corpus not found at {args.corpus}", file=sys.stderr)
        return 1
    stats: dict = {}
    items, total = generate(args.corpus, args.count, args.seed, stats)
    write(items, args.out)
    print(f"{len(items)} known items from {total} articles (seed {args.seed}) → {args.out}; "
          f"sampled articles passed over: {stats['few_words']} without three candidate words "
          f"(one with an umlaut), {stats['near_copy']} with a near-identical copy")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
