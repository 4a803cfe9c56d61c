"""The one settings object of the engine: every tunable of both backends lives here.

:class:`Settings` is a frozen dataclass declared as a table: each field has
its default and a line of help (``Settings.describe()`` lists them, grouped).
Build one with ``Settings(index_dir=...)`` and change fields with
:meth:`Settings.with_changes`; the web app and the CLI pass it down
unchanged, and every module reads the field it needs where it uses it.

One kind of setting is process-wide rather than per engine: the sizes in
the group ``caches``. Those caches of index data and derived text
(:mod:`search.cache`) are shared by every engine of a process (their keys
name the segment or the text, so what one engine decoded serves another
reading the same segment, and no other), and are sized by the settings of
the engine that opened an index last (:func:`search.cache.configure`).
Every other setting acts on the engine it is given to only.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path

from .ranking.weights import shipped_weights

# The defaults of the re-ranking weights: fitted on the development sets, shipped as
# search/ranking/weights.json (benchmarks/fit_ranking.py writes it).
_FIT = shipped_weights()


def setting(default, help: str, *, group: str):
    """A field of :class:`Settings` with its help line and group."""
    if isinstance(default, (dict, list, set)):
        return field(default_factory=lambda: type(default)(default),
                     metadata={"help": help, "group": group})
    return field(default=default, metadata={"help": help, "group": group})


@dataclass(frozen=True)
class Settings:
    """How the engine reads, indexes and searches (see ``Settings.describe()``)."""

    index_dir: Path = setting(Path("index"), "The index folder (or cluster folder).",
                              group="index")

    # -- reading the corpus ------------------------------------------------------
    max_file_bytes: int = setting(
        20 * 1024 * 1024, "Largest one-article file (HTML, txt, JSON) read, and largest record "
        "of a record file or page of a WARC file; larger ones are skipped with the reason: "
        "one article that large is not an article. Record files themselves have no cap.",
        group="reading")
    read_part_bytes: int = setting(
        2 * 1024 * 1024, "Record files (JSON Lines, CSV, WARC) go to the worker processes in "
        "parts of about this many bytes of records, so memory stays bounded whatever a "
        "file's size.", group="reading")
    encodings: tuple[str, ...] = setting(("utf-8", "cp1252"), "Text encodings tried in order.",
                                         group="reading")
    title_max_chars: int = setting(140, "Longest title taken from a lead sentence.",
                                   group="reading")
    lang_sample_chars: int = setting(1000, "Characters of an article its language is told from.",
                                     group="reading")
    default_lang: str = setting("de", "Language of an article whose language cannot be told.",
                                group="reading")

    # -- indexing ----------------------------------------------------------------
    writer_memory_mb: int = setting(
        64, "Memory the index writer holds postings in before it spills them to disk (the "
        "indexer's arrays and those of the run being sorted, together).",
        group="indexing")
    writer_procs: int = setting(1, "Whoosh writer processes of an incremental update.",
                                group="indexing")
    index_workers: int = setting(0, "Processes that read and analyse articles (0: one per core).",
                                 group="indexing")
    parallel_min_bytes: int = setting(
        2 * 1024 * 1024, "Below this much to read, files are read in the indexing process "
        "itself (starting workers would cost more than it saves).", group="indexing")
    segment_builder: bool = setting(
        True, "Write a fresh Whoosh index with the array-based segment builder (False: "
        "Whoosh's own writer, which gives the same postings).", group="indexing")
    min_run_postings: int = setting(
        100_000, "Fewest postings a spilled run of the segment builder holds, whatever the "
        "memory budget.", group="indexing")
    split_min_postings: int = setting(
        200_000, "Postings from which the segment builder writes a field's postings in a "
        "second process.", group="indexing")
    split_max_documents: int = setting(
        50_000, "Documents up to which the segment builder may write a field's postings in a "
        "second, forked process; a fork counts all the indexer's memory again, and that "
        "grows with the documents.", group="indexing")
    analysis_table_words: int = setting(
        100_000, "Words an indexing process keeps analysed (their terms, "
        "stems and compound parts) before it starts its tables again: more saves some "
        "analysis, costs about 700 bytes each in every worker.", group="indexing")

    # -- ranking -----------------------------------------------------------------
    title_boost: float = setting(2.5, "Weight of the title against the text (BM25F).",
                                 group="ranking")
    bm25_b: float = setting(
        0.9, "BM25 length normalisation (0.9 against the usual 0.75: on the development "
        "sets success@1 of known items typed .976 against .974 and inflected .909 against "
        ".907, both held out; benchmarks/fit_ranking.py). Xapian folds it into the index: "
        "a change needs --rebuild there.", group="ranking")
    bm25_k1: float = setting(1.2, "BM25 term frequency saturation.", group="ranking")
    parts_boost: float = setting(
        0.3, "Weight of a match inside a compound, against 1.0 for the word itself.",
        group="ranking")
    inflection_weight: float = setting(
        0.7, "Weight of a word's other verb forms (verpasst -> verpassen) against the word "
        "(0: not searched).", group="ranking")
    any_mode_power: float = setting(
        2.0, "Any mode: a hit's score times (its share of the query's IDF) ** power.",
        group="ranking")
    any_mode_title_boost: float = setting(2.5, "Any mode: the title's weight.", group="ranking")
    any_mode_full_match: float = setting(
        10.0, "Any mode: the factor of a hit holding every known word of the query.",
        group="ranking")
    exact_form_boost: float = setting(
        _FIT["exact"], "Re-ranking: weight of the share of the query's words a hit holds as "
        "typed (its score times exp(weight x share); search/ranking/rerank.py).",
        group="ranking")
    rank_window_weight: float = setting(
        _FIT["window"], "Re-ranking: weight of how close the query's words stand in the text.",
        group="ranking")
    rank_pairs_weight: float = setting(
        _FIT["pairs"], "Re-ranking: weight of the share of neighbouring query words that stand "
        "next to each other in the text or title.", group="ranking")
    rank_title_weight: float = setting(
        _FIT["title"], "Re-ranking: weight of the share of the query's words in the title.",
        group="ranking")
    rank_written_weight: float = setting(
        _FIT["written"], "Re-ranking: weight of a hit holding every query word's stem as the "
        "query writes it, umlauts kept (schöner finds schön, not schon).", group="ranking")
    rerank_depth: int = setting(
        30, "How many of the first hits of a plain word query are re-ranked by what they hold "
        "of the query (0: none).", group="ranking")

    # -- query planning ------------------------------------------------------------
    prefix_min_chars: int = setting(2, "Shortest prefix that Impf* expands.", group="planning")
    prefix_max_terms: int = setting(2000, "Terms one prefix expands to per field and stem.",
                                    group="planning")
    prefix_max_terms_per_query: int = setting(
        10_000, "Terms all prefixes of one query expand to together; later prefixes are "
        "searched as plain words.", group="planning")
    relaxed_min_chars: int = setting(
        3, "Any mode: shortest start of an unknown word that stands in for it.", group="planning")
    relaxed_max_terms: int = setting(
        50, "Any mode: index terms that stand in for one unknown word.", group="planning")
    relaxed_boost: float = setting(0.1, "Any mode: weight of the stand-ins for an unknown word.",
                                   group="planning")

    # -- searching -----------------------------------------------------------------
    per_page: int = setting(10, "Hits per page by default.", group="searching")
    max_per_page: int = setting(100, "Most hits per page a caller may ask for.",
                                group="searching")
    max_page: int = setting(1000, "Highest page number a caller may ask for.", group="searching")
    max_query_chars: int = setting(1000, "Characters of the query text that are searched.",
                                   group="searching")
    search_time_budget_seconds: float = setting(
        1.0, "A search still working after this long stops and answers with the best hits "
        "found so far, flagged timed_out (0: no limit).", group="searching")
    exact_totals: bool = setting(
        True, "Searches count every match for the total and the facets (False: only the "
        "first hits, as the API's exact_totals=0 asks: no facets, and an OR, a prefix or "
        "the any mode skips what cannot reach them, its total a lower bound).",
        group="searching")
    top_k_max_parts: int = setting(
        64, "Only the first hits asked: an OR of more parts than this (a prefix's terms) "
        "is scored whole, its skipping costing more per part than it saves.",
        group="searching")
    any_mode_min_terms: int = setting(
        3, "Words a plain query needs before too few hits make it a ranked OR (any mode).",
        group="searching")
    related_terms: int = setting(20, "Distinctive terms of an article its related articles "
                                 "are found with.", group="searching")
    related_max_df_share: float = setting(
        0.2, "Related articles: terms in more than this share of the articles are not "
        "distinctive.", group="searching")
    related_text_chars: int = setting(20_000, "Related articles: characters of the text read.",
                                      group="searching")

    # -- near-duplicates (search.duplicates) -------------------------------------------
    find_duplicates: bool = setting(
        True, "Index: cluster near-duplicate articles (False: every article stands alone, and "
        "no signatures are computed). A change needs --rebuild.", group="duplicates")
    duplicate_threshold: float = setting(
        0.7, "Estimated Jaccard similarity of the word shingles of two articles from which "
        "they are near-duplicates (one cluster); measured on FANG in "
        "benchmarks/duplicates.py.", group="duplicates")
    duplicate_shingle_words: int = setting(
        5, "Words per shingle of a near-duplicate signature. A change needs --rebuild.",
        group="duplicates")
    duplicate_permutations: int = setting(
        128, "MinHash values per signature (more: a closer similarity estimate, slower "
        "indexing). A change needs --rebuild.", group="duplicates")
    duplicate_min_words: int = setting(
        30, "Articles with fewer words are never clustered. A change needs --rebuild.",
        group="duplicates")
    duplicate_recall_weight: float = setting(
        0.95, "Weight of a missed pair against a false candidate when the LSH bands are "
        "chosen (a false candidate costs one comparison of signatures).", group="duplicates")
    duplicate_scan_limit: int = setting(
        256, "Up to this many articles to cluster again, a run compares their signatures with "
        "every stored one instead of building the LSH index (the same clusters either way; "
        "one comparison costs about a four hundredth of building the index).",
        group="duplicates")
    collapse_duplicates: bool = setting(
        True, "Search: the best-ranked article of a cluster stands for the others, which are "
        "listed under it (False: every article is a hit; the API's collapse=0 does the same "
        "for one search).", group="duplicates")
    duplicates_per_hit: int = setting(
        20, "Most folded articles listed under one hit (the count says how many there are).",
        group="duplicates")
    diff_max_words: int = setting(
        20_000, "Words of each version that the comparison of two versions reads.",
        group="duplicates")

    # -- snippets ------------------------------------------------------------------
    snippet_fragments: int = setting(3, "Most passages of a snippet.", group="snippets")
    snippet_chars: int = setting(
        300, "Characters of a snippet, over all its passages (each cut at a sentence or word "
        "boundary); the page shows all of them.", group="snippets")
    snippet_scan_chars: int = setting(
        8000, "Characters of a long text scanned at a time for the first stretch holding a "
        "match.", group="snippets")

    # -- studying the news: trends, keyword in context, export, feeds -----------------
    trends_max_series: int = setting(6, "Trends: most queries (series) compared at once.",
                                     group="searching")
    trends_max_intervals: int = setting(
        4000, "Trends: most intervals (points of a series) between the first and the last "
        "article of the span asked for; more is refused with a hint to a longer interval.",
        group="searching")
    kwic_width: int = setting(60, "Keyword in context: characters of context on each side "
                              "by default.", group="searching")
    kwic_max_width: int = setting(300, "Keyword in context: most characters of context a "
                                  "caller may ask for on each side.", group="searching")
    kwic_per_page: int = setting(50, "Keyword in context: lines per page by default.",
                                 group="searching")
    kwic_max_per_page: int = setting(500, "Keyword in context: most lines per page a caller "
                                     "may ask for.", group="searching")
    kwic_max_articles: int = setting(
        2000, "Keyword in context: most matching articles read (newest first); the answer "
        "says so when there were more.", group="searching")
    kwic_max_lines: int = setting(
        20_000, "Keyword in context: most occurrences collected; the answer says so when "
        "there were more.", group="searching")
    export_max_rows: int = setting(
        100_000, "Export: most hits written; the answer says so when there were more.",
        group="searching")
    export_batch: int = setting(
        500, "Export and keyword in context: hits read from the index at a time (a streamed "
        "export holds about this many articles in memory).", group="searching")
    feed_entries: int = setting(50, "Atom feed of a query: the newest matching articles it "
                                "holds.", group="searching")

    # -- suggestions ("Meinten Sie") -------------------------------------------------
    suggest_below_hits: int = setting(3, "Suggest a correction below this many hits.",
                                      group="suggestions")
    suggest_max_edits: int = setting(2, "Most letter edits of a correction.", group="suggestions")
    suggest_min_word_count: int = setting(2, "Articles a corrected word must occur in.",
                                          group="suggestions")
    suggest_max_words: int = setting(
        12, "Words of a query looked up for a correction (each a search of the vocabulary); "
        "the others stay as typed.", group="suggestions")
    suggest_more_below_hits: int = setting(
        50, "Below this many hits, a correction is also suggested when it finds "
        "suggest_more_factor times as many ('Merkl Lockdown').", group="suggestions")
    suggest_more_factor: float = setting(
        10.0, "How many times the hits of the query as typed a correction must find to be "
        "suggested when the query has hits.", group="suggestions")
    suggest_rare_word_count: int = setting(
        30, "When the query has hits: only words in at most this many articles are "
        "corrected (this bounds the work).", group="suggestions")

    # -- Whoosh fast paths (each gives the same answers as the plain path) -------------
    fast_search: bool = setting(
        True, "Score and count facets on whole posting arrays with numpy (False: Whoosh's "
        "matchers and collectors).", group="whoosh")
    fast_snippets: bool = setting(
        True, "Cut snippets (on either backend) from cached stretches of the text, stemming "
        "only candidate words (False: word by word, the same snippets).", group="snippets")
    compact_postings: bool = setting(
        True, "Read postings and positions from a segment's compact arrays where it has them.",
        group="whoosh")
    skip_blocks: bool = setting(
        True, "Decode only the posting blocks that can hold a document the rarer words of an "
        "AND or phrase matched.", group="whoosh")
    some_blocks_share: float = setting(
        0.5, "Share of a term's blocks above which its whole list is decoded instead.",
        group="whoosh")
    read_ahead_share: float = setting(
        0.75, "Warming a segment without compact arrays decodes the posting lists of its "
        "most frequent terms, up to this share of postings_cache_bytes.", group="whoosh")
    stored_fields_cache_chars: int = setting(
        48_000_000, "Per open index: stored fields of recently shown hits (characters of "
        "title and text).", group="whoosh")
    frequencies_cache_terms: int = setting(
        200_000, "Per open index: document frequencies of the terms compiling queries looked "
        "up (all forgotten at once when full).", group="whoosh")

    # -- caches (process-wide: see the module's text) -----------------------------------
    postings_cache_bytes: int = setting(256 * 2**20, "Decoded posting lists.", group="caches")
    norms_cache_bytes: int = setting(256 * 2**20, "Length-normalised term frequencies.",
                                     group="caches")
    positions_cache_bytes: int = setting(128 * 2**20, "Decoded positions (phrases).",
                                         group="caches")
    headers_cache_blocks: int = setting(500_000, "Posting block headers.", group="caches")
    columns_cache_segments: int = setting(
        64, "Segments whose date and facet columns, field lengths and deletions are kept read.",
        group="caches")
    snippet_cache_chars: int = setting(32_000_000, "Texts split into stretches for snippets.",
                                       group="caches")
    stems_cache_words: int = setting(
        500_000, "Words of snippet texts whose stems are kept, per language (all forgotten "
        "at once when full).", group="caches")
    lowered_cache_chars: int = setting(
        64_000_000, "Lowercased texts of re-ranked hits (words as typed).", group="caches")

    # -- backend -------------------------------------------------------------------
    backend: str | None = setting(
        None, "whoosh or xapian; None: Xapian for a cluster folder or remote shards, else "
        "Whoosh.", group="backend")
    remote: str | None = setting(
        None, "Xapian shards served by xapian-tcpsrv: host:port,host:port (one per shard; "
        "host:port|host:port names a shard's primary and its replicas, tried in order).",
        group="backend")
    shards: int | None = setting(
        None, "Shards of a new Xapian cluster folder (default 1; fixed once built).",
        group="backend")

    # -- Xapian cluster ----------------------------------------------------------------
    shard_timeout_ms: int = setting(
        10_000, "A remote shard call taking longer fails (and the shard is left out).",
        group="xapian")
    shard_connect_timeout_ms: int = setting(2_000, "Connecting to a remote shard.",
                                            group="xapian")
    shard_retry_seconds: float = setting(
        2.0, "How long a failed shard is left out before it is tried again.", group="xapian")
    shard_reopen_seconds: float = setting(
        1.0, "How often open shards are checked for new commits.", group="xapian")
    vocabulary_check_seconds: float = setting(
        30.0, "How often shard vocabularies are checked for changes.", group="xapian")
    shard_batch: int = setting(64, "Articles sent to a shard's writer at a time.",
                               group="xapian")
    shard_commit_every: int = setting(5000, "Articles a shard writer commits after.",
                                      group="xapian")
    shard_sample: int = setting(
        1000, "Articles of a first build whose field lengths fix the term-weight "
        "normalisation.", group="xapian")
    shard_keep_changesets: int = setting(
        50, "Changesets an updated shard keeps for its replicas.", group="xapian")
    coordinated_max_words: int = setting(
        8, "Any mode: words up to which the coverage factor is spelt out exactly (the work "
        "grows with their square).", group="xapian")
    coordinated_max_subsets: int = setting(
        30, "Any mode with a power other than 2: subsets of the words spelt out at most.",
        group="xapian")

    # -- serving (newssearch serve and the web app) --------------------------------------
    http_max_body_bytes: int = setting(
        8 * 1024, "Largest request body the server accepts; a longer one is refused with 413 "
        "before it is read (nothing the app serves reads a body).", group="serving")
    http_max_header_bytes: int = setting(
        32 * 1024, "Largest request line and headers the server accepts; longer ones are "
        "refused with 431 (a link to a search of the longest query searched is ~12 KB).",
        group="serving")
    robots_disallow: tuple[str, ...] = setting(
        ("/?", "/artikel/*?", "/api/", "/healthz"), "Paths /robots.txt asks crawlers to leave "
        "alone (result pages, articles with a search, the API); empty: all may be crawled.",
        group="serving")
    cache_max_age_seconds: int = setting(
        0, "How long browsers and proxies may reuse a search or article response without "
        "asking again (0: they ask every time, and a 304 answers while the index is the same).",
        group="serving")
    cors_origins: tuple[str, ...] = setting(
        (), "Web origins whose pages may read the GET API (https://example.org, or * for any); "
        "empty: none.", group="serving")
    worker_memory_mb: int = setting(
        512, "Anonymous memory (RssAnon) a process may hold before the caches of index data "
        "are shrunk to bring it back under this (0: no budget).", group="serving")

    def __post_init__(self):
        object.__setattr__(self, "index_dir", Path(self.index_dir))

    def with_changes(self, **changes) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def describe(cls) -> list[dict]:
        """Every setting: name, group, default and help, in declaration order."""
        rows = []
        for item in fields(cls):
            default = item.default if item.default is not MISSING else item.default_factory()
            rows.append({"name": item.name, "group": item.metadata.get("group", ""),
                         "default": default, "help": item.metadata.get("help", "")})
        return rows
