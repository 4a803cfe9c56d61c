"""The layout of a Xapian shard: shard routing, and the terms, values and data of one article.

Every shard is an ordinary Xapian database. An article becomes one document:

- terms from *our* analysis chains (:mod:`search.analysis`): the text's terms
  unprefixed and the title's with the prefix ``S``, each with its positions
  (phrases), and the parts of German compounds with ``XP``; their wdf is the
  term frequency normalised by the length of its own field, as Whoosh's
  BM25F does it (:func:`scaled_wdf`); boolean terms ``Q<id>`` (the unique id), ``L<lang>``,
  ``XS<source>`` and ``XC<category>`` (filters, lowercased, so filters match
  regardless of case), ``XK<cluster>`` (the members of a near-duplicate cluster,
  :mod:`search.duplicates`);
- values: the date key (ranges and date sorting), its day (trends count
  matches per day with a ``ValueCountMatchSpy``: a few hundred distinct days
  are read back in a millisecond, the tens of thousands of distinct date keys
  took a quarter of a second), the facet fields (month, lang, source,
  category, counted with ``ValueCountMatchSpy``), a final sort key, the
  checksum and the cluster id (the collapse key of searches);
- data: the stored fields as JSON, the same dictionary the Whoosh index
  stores, so hits, snippets and article pages are built the same way.

Each shard also keeps, in its metadata, the vocabulary of its articles (for
"Meinten Sie" suggestions) and its place in the cluster.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from collections import Counter
from datetime import datetime, timezone

import xapian

from ...ingest.corpus import Article
from ...ranking.lengths import quantised

# Value slots
SLOT_DATE = 0  # YYYYMMDDhhmmss, 14 digits; zeros for undated articles
SLOT_MONTH = 1
SLOT_LANG = 2
SLOT_SOURCE = 3
SLOT_CATEGORY = 4
SLOT_ORDER = 5  # date key + id: the last tie-break, the same however the articles are sharded
SLOT_CHECKSUM = 6
SLOT_DAY = 7  # YYYYMMDD, the first 8 digits of the date key: trends count per day with it
SLOT_CLUSTER = 8  # the near-duplicate cluster id: searches collapse on it
FACET_SLOTS = {"month": SLOT_MONTH, "lang": SLOT_LANG, "source": SLOT_SOURCE,
               "category": SLOT_CATEGORY}

# Term prefixes (Xapian's convention: upper case, terms themselves are lower case)
TITLE = "S"
ID = "Q"
LANG = "L"
SOURCE = "XS"
CATEGORY = "XC"
PARTS = "XP"  # the parts of German compounds (Flüchtlingspolitik → fluchtling, polit)
COMBINED = "XF"  # a term in title, text and parts at once, its fields weighed (BM25F)
CLUSTER = "XK"  # the near-duplicate cluster of the article
FILTER_PREFIXES = {"lang": LANG, "source": SOURCE, "category": CATEGORY}
FIELD_PREFIXES = {"title": TITLE, "text": "", "parts": PARTS}

MAX_TERM_BYTES = 240  # Xapian refuses terms over 245 bytes
# Within-document frequencies are stored normalised and scaled (see scaled_wdf);
# the search side uses BM25 with b = 0 and k1 times this.
WDF_SCALE = 100

# Metadata keys of a shard
META_VOCABULARY = "newssearch.vocabulary"
META_STAMP = "newssearch.stamp"
META_SHARD = "newssearch.shard"
META_INDEXED_AT = "newssearch.indexed_at"
META_RUN = "newssearch.run"  # the indexer run that last committed
META_SIZE = "newssearch.size_bytes"  # the shard's size on disk at its last commit
META_DUPLICATES = "newssearch.duplicates"  # the cluster's near-duplicate summary, as JSON


def shard_of(article_id: str, shards: int) -> int:
    """The shard an article lives in: a stable hash of its id, the same in every process."""
    digest = hashlib.blake2b(article_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def id_term(article_id: str) -> str:
    term = ID + article_id
    if len(term.encode("utf-8", "surrogatepass")) <= MAX_TERM_BYTES:
        return term
    return ID + "#" + hashlib.blake2b(article_id.encode("utf-8", "surrogatepass"),
                                      digest_size=20).hexdigest()


def cluster_term(cluster: str) -> str:
    """The boolean term of a near-duplicate cluster (its id is an article id)."""
    return CLUSTER + id_term(cluster)[len(ID):]


def set_cluster(doc: xapian.Document, cluster: str) -> bool:
    """Put ``doc`` into ``cluster`` (value and term); ``False`` when it was there already."""
    old = doc.get_value(SLOT_CLUSTER).decode("utf-8", "surrogatepass")
    if old == cluster:
        return False
    if old:
        try:
            doc.remove_term(cluster_term(old))
        except xapian.InvalidArgumentError:
            pass
    doc.add_boolean_term(cluster_term(cluster))
    doc.add_value(SLOT_CLUSTER, cluster.encode("utf-8", "surrogatepass"))
    return True


def filter_term(field: str, value: str) -> str:
    return FILTER_PREFIXES[field] + value.strip().lower()


def date_key(sort_key: int) -> str:
    return f"{max(0, sort_key):014d}"[:14]


def _fits(term: str) -> bool:
    return len(term.encode("utf-8", "surrogatepass")) <= MAX_TERM_BYTES


def stored_fields(article: Article, lang: str, digest: str) -> dict:
    """The stored fields of an article: the same keys the Whoosh index stores."""
    stored = {"id": article.id, "title": article.title, "text": article.text, "lang": lang,
              "checksum": digest}
    if article.date:
        stored["date"] = article.date.iso
    for name in ("source", "category", "url"):
        value = getattr(article, name)
        if value:
            stored[name] = value
    if article.authors:
        stored["authors"] = list(article.authors)
    return stored


def field_averages(lengths: dict) -> dict[str, float]:
    """Average field lengths (each at least 1) from the lengths of a sample of articles:
    per field, an array of one length per article."""
    return {field: max(1.0, float(sum(lengths[field])) / max(1, len(lengths[field])))
            for field in ("title", "text", "parts")}


def length_norm(length: int, average: float, b: float) -> float:
    """BM25's length normalisation of a field, from its length as Whoosh stores it."""
    return (1.0 - b) + b * quantised(length) / average


def scaled_wdf(tf: int, length: int, average: float, b: float) -> int:
    """The wdf that makes Xapian's BM25 (with b = 0) weigh ``tf`` as Whoosh's BM25F does.

    BM25F normalises a term's frequency by the length of *its field*;
    Xapian 1.4 only knows whole documents. So the normalisation is done here,
    once: ``tf / ((1 - b) + b * length / average)``, times :data:`WDF_SCALE`
    (with ``k1`` scaled alike at search time, the saturation is the same).
    """
    return max(1, round(WDF_SCALE * tf / length_norm(length, average, b)))


def build_document(article: Article, lang: str, digest: str, normalisation: dict,
                   grouped: dict) -> xapian.Document:
    """One article as a Xapian document (terms by our chains, values, JSON data).

    ``grouped`` is the article's analysis (:meth:`search.analysis.batch.AnalysedBatch.grouped`):
    per field its distinct terms, their counts and (title and text) their positions
    grouped term by term. ``normalisation`` holds the average field lengths, the
    BM25 ``b`` and the field boosts that the term weights are normalised with (see
    :func:`scaled_wdf`); a word's combined term (``XF``) weighs its fields before the
    one saturation, as BM25F proper does.
    """
    doc = xapian.Document()
    averages, b = normalisation["averages"], normalisation["b"]
    boosts = normalisation.get("boosts", {})
    combined: Counter = Counter()
    for field, prefix in FIELD_PREFIXES.items():
        terms, counts, flat = grouped[field]
        length = len(flat) if flat is not None else sum(counts)
        norm = length_norm(length, averages[field], b)
        boost = boosts.get(field)
        at = 0
        for term, tf in zip(terms, counts):
            name = prefix + term
            if _fits(name):
                if flat is not None:  # positions count from 1
                    for position in flat[at:at + tf]:
                        doc.add_posting(name, position + 1, 0)
                doc.add_term(name, scaled_wdf(tf, length, averages[field], b))
            at += tf
            if boost:
                combined[term] += boost * tf / norm
    for term, weight in combined.items():
        if _fits(COMBINED + term):
            doc.add_term(COMBINED + term, max(1, round(WDF_SCALE * weight)))
    doc.add_boolean_term(id_term(article.id))
    doc.add_boolean_term(filter_term("lang", lang)[:MAX_TERM_BYTES])
    for field in ("source", "category"):
        value = getattr(article, field)
        if value and _fits(filter_term(field, value)):
            doc.add_boolean_term(filter_term(field, value))
    key = date_key(article.date.sort_key if article.date else 0)
    doc.add_value(SLOT_DATE, key)
    doc.add_value(SLOT_DAY, key[:8])
    if article.date and article.date.month:
        doc.add_value(SLOT_MONTH, article.date.month)
    doc.add_value(SLOT_LANG, lang)
    if article.source:
        doc.add_value(SLOT_SOURCE, article.source)
    if article.category:
        doc.add_value(SLOT_CATEGORY, article.category)
    doc.add_value(SLOT_ORDER, key + article.id)
    doc.add_value(SLOT_CHECKSUM, digest)
    # Its own cluster until the indexer knows better (set_cluster, after every article
    # of the run is read).
    set_cluster(doc, article.id)
    doc.set_data(json.dumps(stored_fields(article, lang, digest), ensure_ascii=False,
                            separators=(",", ":")))
    return doc


def stored_of(document: xapian.Document) -> dict:
    return json.loads(document.get_data().decode("utf-8"))


# ---------------------------------------------------------------------------
# Shard metadata


def dump_vocabulary(counts: Counter) -> bytes:
    """Vocabulary counts as compressed JSON (never pickle: shards may be remote)."""
    return zlib.compress(json.dumps(dict(counts), ensure_ascii=False,
                                    separators=(",", ":")).encode("utf-8"), 6)


def load_vocabulary(blob: bytes) -> Counter:
    if not blob:
        return Counter()
    try:
        data = json.loads(zlib.decompress(blob).decode("utf-8"))
    except (zlib.error, ValueError, UnicodeDecodeError):
        return Counter()
    if not isinstance(data, dict):
        return Counter()
    return Counter({str(k): int(v) for k, v in data.items()
                    if isinstance(v, int) and not isinstance(v, bool) and v > 0})


def write_shard_metadata(db: xapian.WritableDatabase, vocabulary: Counter, shard: int,
                         shards: int, run: int, size: int) -> None:
    """The metadata written with every commit of a shard, in the same transaction."""
    db.set_metadata(META_VOCABULARY, dump_vocabulary(vocabulary))
    db.set_metadata(META_RUN, str(run))
    db.set_metadata(META_SIZE, str(size))
    db.set_metadata(META_SHARD, f"{shard}/{shards}")
    db.set_metadata(META_STAMP, uuid.uuid4().hex)
    db.set_metadata(META_INDEXED_AT,
                    datetime.now(timezone.utc).isoformat(timespec="seconds"))


def metadata_int(db: xapian.Database, key: str) -> int | None:
    raw = db.get_metadata(key)
    return int(raw) if raw.isdigit() else None


def shard_place(db: xapian.Database) -> tuple[int, int] | None:
    """``(shard, shards)`` as written by the indexer, or ``None``."""
    raw = db.get_metadata(META_SHARD).decode("ascii", "replace")
    try:
        shard, shards = (int(x) for x in raw.split("/"))
    except ValueError:
        return None
    return shard, shards
