"""Near-duplicate articles: one story told in (nearly) the same words, one cluster.

News archives hold the same agency report in several outlets and several
versions of one article as it was updated through the day. At index time
every article gets a *cluster id*; articles in one cluster are near-duplicates
of each other, and a search shows the best-ranked member of a cluster for
all of them (the others are listed under it).

How clusters are found, the same on every backend (this module imports no
search engine):

- **Signature.** The lowercased words of the text (the title is left out: a
  version republished under a new headline is the same story) are cut into
  overlapping shingles of ``duplicate_shingle_words`` words; a MinHash
  (datasketch, ``affine32`` scheme, fixed seed) of the set of shingles is the
  article's signature. Texts of fewer than ``duplicate_min_words`` words are
  never clustered. The indexers sign the articles of a part of a file together
  (:func:`signatures`): the permutations of every shingle of the part are taken
  with numpy at once, the same values as datasketch's ``MinHash.update_batch``
  of each article (the permutations are datasketch's), in less than half the time.
- **Edges.** Two articles are near-duplicates when they share a band of
  their signatures (MinHash LSH, datasketch; the bands chosen for recall,
  ``duplicate_recall_weight``: a false candidate costs one comparison of two
  signatures, a missed pair a wrong cluster) and the share of equal MinHash
  values, the estimate of the Jaccard similarity of their shingle sets, is
  at least ``duplicate_threshold``. A run that changes a few articles compares
  their signatures with every stored one (a few milliseconds each; the setting
  ``duplicate_scan_limit``). A run that changes many finds the candidates by
  sorting every signature's band keys (one 64-bit key per band and article,
  numpy): the articles of a run of equal keys are candidates, taken in bounded
  slices, and the edges are kept as adjacency arrays for the time of the update.
  A rebuild, which clusters every article again, takes the connected components
  of those edges at once (scipy) instead of asking for the neighbours of one
  article after another. datasketch's own LSH index held the same bands as
  Python objects, about 6.5 KB per article (52 MB for 8,000 articles, 1.2 GB for
  the 179,246 of a generated 1 GB dump, held through the end of the build); the
  sorted keys take 8 bytes per band and article for the time of one update. All
  find the same edges: a pair is an edge when it shares a band and is similar
  enough, whichever way the band was found.
- **Clusters** are the connected components of those edges, and a cluster's
  id is the smallest id among its members (a singleton's is its own id).
  Both depend only on the signatures and the settings, never on the order
  articles arrived in, so a rebuild gives the same clusters as any sequence
  of incremental runs over the same files.

:class:`Clusters` keeps the state between runs with the index (one
``duplicates.npz``: the signatures, the ids and their clusters). A run puts
the signatures of added and changed articles and removes the ids of removed
ones; :meth:`Clusters.update` then recomputes only the components that can
have changed (those holding a changed or removed article, or a neighbour of
a changed one) and returns the articles whose cluster id changed, which the
backend writes to its index (a Whoosh field and column, a Xapian value and
term). The band keys are not stored: a run that needs them makes them
from the signatures (see ``benchmarks/duplicates.py`` for the times).
The signatures themselves are one ``uint32`` array (``duplicate_permutations``
values, 512 bytes an article by default): the state that grows with the
index.

datasketch is imported where it is used (its import takes about a second,
most of it scipy's): a run of the indexer that changes nothing never loads it.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .analysis.batch import ranges
from .analysis.chains import chain_for

FILE = "duplicates.npz"
VERSION = 1
SCHEME = "affine32"
SEED = 1
# Shingle hashes: the polynomial hash (mod 2**64, an odd base) of a shingle's words joined
# by single spaces, folded to 32 bits (the input width of the affine32 scheme, which
# mixes its inputs before permuting them). Every shingle of a text at once, from prefix
# sums of its bytes: a third of the time of hashing it word by word (zlib.crc32 per word,
# then combining), measured on 1,000 FANG articles.
_BASE = np.uint64(0x100000001B3)
_BASE_INVERSE = np.uint64(pow(0x100000001B3, -1, 2**64))
_SHIFT = np.uint64(32)
_SPACE = 32
_powers = np.ones(1, dtype=np.uint64)  # _BASE ** i, grown as needed
# MurmurHash3's 32-bit finalizer (shifts and multipliers), datasketch's affine32 pre-mix.
_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
_MINHASH_ROWS = 4_096  # shingles permuted at a time (x 128 permutations: 2 MiB)
_inverse_powers = np.ones(1, dtype=np.uint64)  # _BASE ** -i
# Candidate pairs made at a time from one band's sorted keys, and compared at a time
# (a pair compared holds its two signatures and their comparison: about 1 KB).
_PAIRS = 1 << 20
_COMPARED = 1 << 15


class StaleClusters(ValueError):
    """The stored signatures were made with other signing settings than the current ones."""


@dataclass(frozen=True)
class Signing:
    """What a signature depends on; stored with the signatures, and a change needs a rebuild
    (``enabled``: whether articles are signed at all, the setting ``find_duplicates``)."""

    enabled: bool
    permutations: int
    shingle_words: int
    min_words: int

    @classmethod
    def of(cls, settings) -> "Signing":
        return cls(bool(settings.find_duplicates), int(settings.duplicate_permutations),
                   int(settings.duplicate_shingle_words), int(settings.duplicate_min_words))


# -- signatures ------------------------------------------------------------------


def words_of(text: str) -> list[str]:
    """The lowercased words of ``text``, as the analysis chains split it."""
    return chain_for(None).tokens(text)


def _powers_for(length: int) -> tuple[np.ndarray, np.ndarray]:
    global _powers, _inverse_powers
    if len(_powers) < length:
        size = max(length, 2 * len(_powers))
        with np.errstate(over="ignore"):
            grown = np.full(size, _BASE, dtype=np.uint64)
            grown[0] = 1
            inverse = np.full(size, _BASE_INVERSE, dtype=np.uint64)
            inverse[0] = 1
            _powers, _inverse_powers = np.cumprod(grown), np.cumprod(inverse)
    return _powers, _inverse_powers


def shingle_hashes(words: list[str], size: int) -> np.ndarray:
    """32-bit hashes of the ``size``-word shingles of ``words`` (uint32, in text order).

    With the bytes ``b`` of the words joined by spaces and ``G[k]`` the sum of
    ``b[j] * base**-j`` for ``j < k``, the span ``s..e`` hashes to
    ``(G[e] - G[s]) * base**(e - 1)``, the same wherever the span is.
    """
    count = len(words) - size + 1
    if count < 1:
        return np.zeros(0, dtype=np.uint32)
    data = np.frombuffer(" ".join(words).encode("utf-8", "surrogatepass"), dtype=np.uint8)
    length = len(data)
    powers, inverse = _powers_for(length)
    spaces = np.flatnonzero(data == _SPACE)
    starts = np.empty(count, dtype=np.int64)
    starts[0] = 0
    starts[1:] = spaces[:count - 1] + 1
    ends = np.empty(count, dtype=np.int64)
    ends[:count - 1] = spaces[size - 1:]
    ends[count - 1] = length
    with np.errstate(over="ignore"):
        sums = np.zeros(length + 1, dtype=np.uint64)
        np.cumsum(data * inverse[:length], out=sums[1:])
        hashes = (sums[ends] - sums[starts]) * powers[ends - 1]
    return ((hashes >> _SHIFT) ^ hashes).astype(np.uint32)


@lru_cache(maxsize=4)
def _permutations(permutations: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations ``(a, b)`` for the fixed seed (uint32 each)."""
    from datasketch import MinHash

    a, b = MinHash(num_perm=permutations, seed=SEED, scheme=SCHEME).permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def _premixed(hashes: np.ndarray) -> np.ndarray:
    """The affine32 scheme's pre-mix of 32-bit input hashes: MurmurHash3's finalizer."""
    hashes = hashes ^ (hashes >> _FMIX[0])
    hashes = hashes * _FMIX[1]
    hashes = hashes ^ (hashes >> _FMIX[2])
    hashes = hashes * _FMIX[3]
    return hashes ^ (hashes >> _FMIX[4])


def minhashes(shingles: list[np.ndarray], permutations: int) -> np.ndarray:
    """The MinHash values (one row each, uint32) of sets of 32-bit shingle hashes, none
    empty: what datasketch's ``MinHash(num_perm=permutations, seed=SEED,
    scheme="affine32", hashfunc=int).update_batch(hashes)`` gives each of them, for
    all of them at once (``_MINHASH_ROWS`` shingles at a time, whatever sets they
    belong to: a third of the time of one MinHash per article, measured on 1,000
    FANG articles)."""
    sizes = np.fromiter(map(len, shingles), dtype=np.int64, count=len(shingles))
    if len(sizes) and sizes.min() < 1:
        raise ValueError("a MinHash of no shingles")
    joined = np.concatenate(shingles) if shingles else np.zeros(0, dtype=np.uint32)
    return _minhashes(joined, np.repeat(np.arange(len(shingles)), sizes), len(shingles),
                      permutations)


def _minhashes(shingles: np.ndarray, owners: np.ndarray, count: int,
               permutations: int) -> np.ndarray:
    """:func:`minhashes` of ``count`` sets whose shingles are ``shingles``, set
    ``owners[i]`` holding ``shingles[i]`` (ascending)."""
    a, b = _permutations(permutations)
    values = np.full((count, permutations), np.iinfo(np.uint32).max, dtype=np.uint32)
    mixed = _premixed(shingles.astype(np.uint32, copy=False))
    # One row per permutation: each product runs along the shingles, contiguous in memory
    # (a row per shingle, 128 wide, took five times as long).
    permuted = np.empty((permutations, min(len(mixed), _MINHASH_ROWS)), dtype=np.uint32)
    for start in range(0, len(mixed), _MINHASH_ROWS):
        chunk = mixed[start:start + _MINHASH_ROWS]
        owner = owners[start:start + _MINHASH_ROWS]
        out = permuted[:, :len(chunk)]
        np.multiply(a[:, None], chunk[None, :], out=out)
        np.add(out, b[:, None], out=out)
        firsts = np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))
        rows = owner[firsts]
        values[rows] = np.minimum(values[rows], np.minimum.reduceat(out, firsts, axis=1).T)
    return values


def _word_hashes(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each word's hash as :func:`shingle_hashes` hashes its bytes (before the fold to
    32 bits), and ``base ** (its bytes)``, both uint64."""
    if not words:
        return np.zeros(0, dtype=np.uint64), np.ones(0, dtype=np.uint64)
    data = np.frombuffer(" ".join(words).encode("utf-8", "surrogatepass"), dtype=np.uint8)
    powers, inverse = _powers_for(len(data) + 1)
    ends = np.empty(len(words), dtype=np.int64)
    ends[:-1] = np.flatnonzero(data == _SPACE)
    ends[-1] = len(data)
    starts = np.empty(len(words), dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    with np.errstate(over="ignore"):
        sums = np.zeros(len(data) + 1, dtype=np.uint64)
        np.cumsum(data * inverse[:len(data)], out=sums[1:])
        hashes = (sums[ends] - sums[starts]) * powers[ends - 1]
    return hashes, powers[ends - starts]


def signatures_of_words(text_words, count: int, signing: Signing) -> list[np.ndarray | None]:
    """:func:`signature` of each of ``count`` texts from their words as a batch analysis
    gives them (``AnalysedBatch.text_words``: each word's text and its number among
    the distinct ``strings``, in text order), without reading the texts again: the
    hash of a shingle is put together from the hashes of its words (for ``a`` and
    ``b`` joined by a space, ``(h(a) * base + 32) * base ** len(b) + h(b)``), the
    same hashes as :func:`shingle_hashes` of the joined words."""
    found: list[np.ndarray | None] = [None] * count
    docs, numbers, strings = text_words
    size = signing.shingle_words
    if not signing.enabled or len(docs) < size:
        return found
    word_hashes, word_powers = _word_hashes(strings)
    hashes, powers = word_hashes[numbers], word_powers[numbers]
    starts = len(docs) - size + 1  # a shingle begins at each of these words
    with np.errstate(over="ignore"):
        shingles = hashes[:starts].copy()
        for offset in range(1, size):
            shingles = (shingles * _BASE + np.uint64(_SPACE)) * powers[offset:offset + starts] \
                + hashes[offset:offset + starts]
    lengths = np.bincount(docs, minlength=count)
    signed = lengths >= max(signing.min_words, size)
    keep = (docs[:starts] == docs[size - 1:]) & signed[docs[:starts]]
    shingles, owners = shingles[keep], docs[:starts][keep]
    folded = ((shingles >> _SHIFT) ^ shingles).astype(np.uint32)
    rows = np.flatnonzero(signed)
    numbered = np.searchsorted(rows, owners)
    for number, values in zip(rows.tolist(), _minhashes(folded, numbered, len(rows),
                                                         signing.permutations)):
        found[number] = values
    return found


def signatures(texts, signing: Signing) -> list[np.ndarray | None]:
    """:func:`signature` of each of ``texts`` (each a text or its lowercased words),
    computed together."""
    if not signing.enabled:
        return [None] * len(texts)
    shingles = []
    signed = []
    for number, text in enumerate(texts):
        words = words_of(text) if isinstance(text, str) else text
        if len(words) >= max(signing.min_words, signing.shingle_words):
            shingles.append(shingle_hashes(words, signing.shingle_words))
            signed.append(number)
    found: list[np.ndarray | None] = [None] * len(texts)
    for number, values in zip(signed, minhashes(shingles, signing.permutations)):
        found[number] = values
    return found


def signature(text_or_words, signing: Signing) -> np.ndarray | None:
    """The MinHash signature of an article's text (or of its lowercased words), or
    ``None`` when it has too few words to be clustered."""
    return signatures([text_or_words], signing)[0]


def similarity(first: np.ndarray, second: np.ndarray) -> float:
    """The estimated Jaccard similarity of two signatures: the share of equal values."""
    return float(np.count_nonzero(first == second)) / len(first)


# -- clusters --------------------------------------------------------------------


class Clusters:
    """The signatures and cluster ids of an index's articles; see the module's text.

    Only articles with a signature are held; any other article is a cluster of
    its own (:meth:`cluster_of` gives its own id).
    """

    def __init__(self, signing: Signing, threshold: float, recall_weight: float,
                 scan_limit: int = 256):
        self.signing = signing
        self.threshold = float(threshold)
        self.recall_weight = float(recall_weight)
        self.scan_limit = int(scan_limit)
        self.ids: list[str | None] = []  # row -> id (None: a free row)
        self.rows: dict[str, int] = {}
        self.signatures = np.zeros((0, signing.permutations), dtype=np.uint32)
        self.cluster: dict[str, str] = {}  # id -> its cluster's id
        self._free: list[int] = []
        self._changed: set[str] = set()  # put with a new signature since the last update
        self._dropped: dict[str, str] = {}  # signature gone since the last update -> old cluster
        self._recluster_all = False
        self._bands: tuple[int, int] | None = None  # (bands, rows per band)
        # The edges of every stored article, during an update that clusters many
        # (see _edges): (where each row's neighbours begin, the neighbour rows); None:
        # compare signatures directly (_scanned_neighbours).
        self._adjacency: tuple[np.ndarray, np.ndarray] | None = None
        # Ids whose cluster the index may not hold yet (see pending_ids); stored.
        self.pending: set[str] = set()

    @classmethod
    def for_settings(cls, settings) -> "Clusters":
        return cls(Signing.of(settings), settings.duplicate_threshold,
                   settings.duplicate_recall_weight, settings.duplicate_scan_limit)

    # -- persistence -------------------------------------------------------------

    @classmethod
    def load(cls, folder, settings) -> "Clusters":
        """The clusters stored in ``folder`` (empty when none are). Raises
        :class:`StaleClusters` when they were signed with other settings; a changed
        threshold or recall weight makes the next :meth:`update` recompute every cluster."""
        clusters = cls.for_settings(settings)
        path = Path(folder) / FILE
        try:
            with np.load(path, allow_pickle=False) as stored:
                meta = json.loads(bytes(stored["meta"]).decode("utf-8"))
                signatures = np.array(stored["signatures"], dtype=np.uint32)
                cluster_rows = np.array(stored["clusters"], dtype=np.int64)
        except FileNotFoundError:
            return clusters
        if meta.get("version") != VERSION:
            raise StaleClusters(f"{path} is of another version")
        stored_signing = Signing(**meta["signing"])
        if stored_signing != clusters.signing:
            raise StaleClusters(
                f"the index's near-duplicate signatures were made with {stored_signing}, "
                f"the settings ask for {clusters.signing}")
        ids = meta["ids"]
        clusters.ids = list(ids)
        clusters.rows = {article_id: row for row, article_id in enumerate(ids)}
        clusters.signatures = signatures
        clusters.cluster = {article_id: ids[int(row)]
                            for article_id, row in zip(ids, cluster_rows.tolist())}
        clusters.pending = set(meta.get("pending", ()))
        if (meta.get("threshold"), meta.get("recall_weight")) != (clusters.threshold,
                                                                   clusters.recall_weight):
            clusters._recluster_all = True
        return clusters

    def save(self, folder) -> Path:
        """Write the clusters into ``folder`` (a new file, swapped in atomically: the old
        one may be a hard link shared with an earlier generation of the index)."""
        if self._changed or self._dropped or self._recluster_all:
            raise RuntimeError("the clusters are saved after update(), never before")
        live = [row for row, article_id in enumerate(self.ids) if article_id is not None]
        ids = [self.ids[row] for row in live]
        position = {article_id: at for at, article_id in enumerate(ids)}
        meta = {"version": VERSION, "signing": vars(self.signing), "threshold": self.threshold,
                "recall_weight": self.recall_weight, "ids": ids,
                "pending": sorted(self.pending)}
        path = Path(folder) / FILE
        temporary = path.with_name(path.name + ".tmp.npz")
        with open(temporary, "wb") as handle:
            np.savez(handle, signatures=self.signatures[live],
                     clusters=np.array([position[self.cluster[i]] for i in ids], dtype=np.int64),
                     meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"),
                                        dtype=np.uint8))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        return path

    # -- changes -------------------------------------------------------------------

    def put(self, article_id: str, signature_: np.ndarray | None) -> None:
        """The article is in the index with this signature (``None``: too short)."""
        row = self.rows.get(article_id)
        if signature_ is None:
            self.remove(article_id)
            return
        if row is not None:
            if np.array_equal(self.signatures[row], signature_):
                return
        else:
            row = self._new_row(article_id)
        self.signatures[row] = signature_
        self._changed.add(article_id)

    def remove(self, article_id: str) -> None:
        """The article left the index (or no longer has a signature)."""
        row = self.rows.pop(article_id, None)
        if row is None:
            return
        self.ids[row] = None
        self._free.append(row)
        self._changed.discard(article_id)
        old = self.cluster.pop(article_id, None)
        self._dropped.setdefault(article_id, old if old is not None else article_id)

    def _new_row(self, article_id: str) -> int:
        if self._free:
            row = self._free.pop()
            self.ids[row] = article_id
        else:
            row = len(self.ids)
            self.ids.append(article_id)
            if row >= len(self.signatures):
                grown = np.zeros((max(64, 2 * len(self.signatures)), self.signing.permutations),
                                 dtype=np.uint32)
                grown[:len(self.signatures)] = self.signatures
                self.signatures = grown
        self.rows[article_id] = row
        return row

    # -- clustering ------------------------------------------------------------------

    def _band_shape(self) -> tuple[int, int]:
        """``(bands, values per band)``: datasketch's choice for the threshold and the
        weights of a missed pair and a false candidate."""
        if self._bands is None:
            from datasketch import MinHashLSH

            lsh = MinHashLSH(threshold=self.threshold, num_perm=self.signing.permutations,
                             weights=(1.0 - self.recall_weight, self.recall_weight))
            self._bands = (lsh.b, lsh.r)
        return self._bands

    def _edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Every edge between stored articles, as adjacency arrays over rows: the
        neighbours of row ``i`` are ``rows[starts[i]:starts[i + 1]]``.

        For each band, the band's values of every signature are folded into one
        64-bit key and the keys sorted; the articles of a run of equal keys are the
        band's candidates. A candidate pair is an edge when the two share the band
        (checked value by value, whatever the keys say), share no earlier band (so
        each edge is taken once) and are similar enough. Memory: the keys of one band
        and the candidates of a bounded slice of it at a time.
        """
        bands, width = self._band_shape()
        live = np.array([row for row, article_id in enumerate(self.ids) if article_id is not None],
                        dtype=np.int64)
        signatures = self.signatures
        firsts, seconds = [], []
        mix = np.random.default_rng(SEED).integers(1, 2**63, size=width, dtype=np.uint64) | 1
        for band in range(bands):
            values = signatures[live, band * width:(band + 1) * width].astype(np.uint64)
            with np.errstate(over="ignore"):
                keys = (values * mix).sum(axis=1, dtype=np.uint64)
            del values
            order = np.argsort(keys, kind="stable")
            keys = keys[order]
            # for each position in key order: how many later positions hold its key
            run_starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
            if len(run_starts) == len(keys):
                continue
            run_ends = np.append(run_starts[1:], len(keys))
            later = np.repeat(run_ends, np.diff(np.append(run_starts, len(keys))))
            later -= np.arange(1, len(keys) + 1, dtype=np.int64)
            del keys, run_starts, run_ends
            positions = np.flatnonzero(later)
            counts = later[positions]
            del later
            total = int(counts.sum())
            bounds = np.searchsorted(np.cumsum(counts), np.arange(_PAIRS, total, _PAIRS),
                                     side="right").tolist()
            begin = 0
            for stop in bounds + [len(positions)]:
                if stop <= begin:
                    continue
                mine, many = positions[begin:stop], counts[begin:stop]
                first = order[np.repeat(mine, many)]
                second = order[ranges(mine + 1, many)]
                begin = stop
                for at in range(0, len(first), _COMPARED):
                    left = live[first[at:at + _COMPARED]]
                    right = live[second[at:at + _COMPARED]]
                    same = signatures[left] == signatures[right]
                    shared = same[:, :(band + 1) * width].reshape(len(same), band + 1, width) \
                        .all(axis=2)
                    similar = np.count_nonzero(same, axis=1) >= self.threshold * same.shape[1]
                    keep = shared[:, band] & ~shared[:, :band].any(axis=1) & similar
                    firsts.append(left[keep])
                    seconds.append(right[keep])
        first = np.concatenate(firsts) if firsts else np.zeros(0, dtype=np.int64)
        second = np.concatenate(seconds) if seconds else np.zeros(0, dtype=np.int64)
        source = np.concatenate((first, second))
        target = np.concatenate((second, first))
        order = np.argsort(source, kind="stable")
        starts = np.searchsorted(source[order], np.arange(len(self.ids) + 1), side="left")
        return starts, target[order]

    def neighbours(self, article_id: str) -> list[str]:
        """The articles that share a band with ``article_id`` and whose estimated
        similarity to it reaches the threshold."""
        if self._adjacency is None:
            return self._scanned_neighbours(article_id)
        starts, rows = self._adjacency
        row = self.rows[article_id]
        ids = self.ids
        return [ids[other] for other in rows[starts[row]:starts[row + 1]].tolist()]

    def _scanned_neighbours(self, article_id: str) -> list[str]:
        bands, width = self._band_shape()
        row = self.rows[article_id]
        used = len(self.ids)
        mine = self.signatures[row]
        equal = self.signatures[:used] == mine
        close = np.flatnonzero(np.count_nonzero(equal, axis=1) / len(mine) >= self.threshold)
        found = []
        for other in close.tolist():
            other_id = self.ids[other]
            if other_id is None or other == row:
                continue
            shared = equal[other, :bands * width].reshape(bands, width).all(axis=1)
            if shared.any():
                found.append(other_id)
        return found

    def update(self) -> dict[str, str]:
        """Recompute the clusters that the changes since the last call can have changed;
        ``{id: new cluster id}`` of every article with a signature whose cluster id
        changed. (An article whose signature was put or removed since the last call
        was written anew by the backend, which takes its cluster from
        :meth:`cluster_of`.)"""
        if not (self._changed or self._dropped or self._recluster_all):
            return {}
        old = self.cluster
        if self._recluster_all:
            seeds = set(self.rows)
        else:
            touched = {old.get(i, i) for i in self._changed} | set(self._dropped.values())
            members: dict[str, list[str]] = {}
            for article_id, cluster in old.items():
                if cluster in touched:
                    members.setdefault(cluster, []).append(article_id)
            seeds = set(self._changed)
            for cluster in touched:
                seeds.update(members.get(cluster, ()))
            seeds &= self.rows.keys()
        if len(seeds) > self.scan_limit and len(seeds) == len(self.rows):
            found = self._all_components()
        else:
            self._adjacency = None if len(seeds) <= self.scan_limit else self._edges()
            try:
                found = self._components(seeds)
            finally:
                self._adjacency = None
        changes = {article_id: cluster for article_id, cluster in found.items()
                   if old.get(article_id, article_id) != cluster}
        old.update(found)
        self._changed.clear()
        self._dropped.clear()
        self._recluster_all = False
        return changes

    def _components(self, seeds) -> dict[str, str]:
        """``{id: cluster id}`` of the articles of the components holding ``seeds``,
        found by asking for the neighbours of one article after another."""
        found: dict[str, str] = {}
        for seed in sorted(seeds):
            if seed in found:
                continue
            component = [seed]
            found[seed] = seed
            stack = [seed]
            while stack:
                for other in self.neighbours(stack.pop()):
                    if other not in found:
                        found[other] = seed
                        component.append(other)
                        stack.append(other)
            cluster = min(component)
            for member in component:
                found[member] = cluster
        return found

    def _all_components(self) -> dict[str, str]:
        """``{id: cluster id}`` of every article, from every edge at once (:meth:`_edges`,
        the edges :meth:`neighbours` finds) and scipy's connected components, instead of
        asking for the neighbours of one article after another (a rebuild's clustering,
        where every article is a seed): the same components and ids."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        live = np.array([row for row, article_id in enumerate(self.ids) if article_id is not None],
                        dtype=np.int64)
        if not len(live):
            return {}
        starts, targets = self._edges()
        size = len(self.ids)
        graph = csr_matrix((np.ones(len(targets), dtype=np.int8), targets, starts),
                           shape=(size, size))
        count = len(live)
        _, labels = connected_components(graph, directed=False)
        labels = labels[live]
        ids = [self.ids[row] for row in live.tolist()]
        ranks = np.empty(count, dtype=np.int64)
        ranks[np.array(sorted(range(count), key=ids.__getitem__), dtype=np.int64)] = \
            np.arange(count)
        lowest = np.full(labels.max() + 1, count, dtype=np.int64)
        np.minimum.at(lowest, labels, ranks)
        by_rank = sorted(ids)
        return {article_id: by_rank[rank]
                for article_id, rank in zip(ids, lowest[labels].tolist())}

    # -- reading -------------------------------------------------------------------------

    @property
    def outdated(self) -> bool:
        """True when the clusters were made with another threshold or recall weight than
        the settings': the next :meth:`update` makes every cluster again."""
        return self._recluster_all

    def cluster_of(self, article_id: str) -> str:
        return self.cluster.get(article_id, article_id)

    def summary(self) -> dict:
        """``{"clusters": n, "articles": m}``: clusters of two or more articles, and the
        articles in them."""
        sizes = Counter(self.cluster.values())
        multi = [size for size in sizes.values() if size > 1]
        return {"clusters": len(multi), "articles": sum(multi)}

    def members(self) -> dict[str, list[str]]:
        """Every cluster of two or more articles: cluster id -> member ids, sorted."""
        groups: dict[str, list[str]] = {}
        for article_id, cluster in self.cluster.items():
            groups.setdefault(cluster, []).append(article_id)
        return {cluster: sorted(ids) for cluster, ids in groups.items() if len(ids) > 1}
