"""German compound splitting: the parts of ``Flüchtlingspolitik`` are ``Flüchtling`` and ``Politik``.

The splitter works on index terms (Snowball stems, umlauts already folded), so
its output is index terms too: ``fluchtlingspolit`` → ``fluchtling``,
``polit``. A term splits when it is a sequence of known stems joined directly
or by a linking element (*Fugenelement*: ``s``, ``es``, ``n``, ``en``, ``e``,
``er``, ``ens``); of all such readings the one whose parts are most common
wins (the geometric mean of their frequencies, Koehn & Knight 2003). Besides
the smallest parts, every longer run of them that is a known word itself is a
part too: ``bundestagswahl`` → ``bundestag``, ``bund``, ``tag``, ``wahl``.

The known stems come from the German word frequencies of the ``wordfreq``
package (Wikipedia, news, subtitles and more), so the split of a word does
not depend on which articles an index happens to hold. Particles and
prefixes (``aus``, ``unter``, ``zusammen``…) are never a modifier and
derivational suffixes (``schaft``, ``heit``…) never a head: ``Auswahl``,
``Unterschied`` and ``Wissenschaft`` stay whole.
"""

from __future__ import annotations

import hashlib
import marshal
import math
import os
import threading
from collections import Counter
from pathlib import Path

import ahocorasick
import Stemmer

from ..cache import on_pressure

MIN_TERM_CHARS = 6  # shorter terms are never split
MAX_PARTS = 4
MIN_ZIPF = 2.5  # a word is known from this frequency on (Zipf scale: 3 = once per million words)
MIN_ZIPF_4 = 3.5  # four-letter stems are more often noise and must be more common
FUGEN = ("", "s", "es", "n", "en", "e", "er", "ens", "nen")

# Three-letter stems are mostly noise (abbreviations, names, English); these
# are the real German words among them that head or start compounds.
SHORT_STEMS = frozenset("""
    tag uhr weg art ort tod alt neu zug ehe tur bau amt see tor arm rat bus hof eis ton ruf
    gas tee rad hut ohr box tal zoo dom akt kuh mut wut bad fan job typ top app pop bio ski
    tat rot tot ost sud nah kur lok oma opa haf wag bod lad ofen geld bett bank
    bär bar saal rind ein
""".split()) - {"ein"}

# Never the first part of a compound: particles, prepositions and prefixes
# that form derivations (Auswahl, Unterschied, Zusammenhang, Vorsicht).
NOT_MODIFIERS = frozenset("""
    ab an auf aus bei durch ein entgegen fort gegen her hin hinter los mit nach neben nieder
    ob über uber um unter vor voran voraus vorbei vorüber weg weiter wider wieder zu zurück
    zuruck zusammen zwischen empor heraus herein hinaus hinein herauf herunter hinunter voll
    miss ver ent zer emp ur un erz be ge er da dar daran darauf dazu hier
    all allein selbst sonst mehr viel wenig ganz gar halb
    heran herum herunter hinterher dahin daher rein raus heim rück ruck einge ange ausg aufs
    vers verb vorh vord metro kosmo
""".split())

# Never a part: derivational suffixes that are also words (Wissenschaft, Kindheit).
NOT_PARTS = frozenset("""
    schaft heit keit ling nis sal sam bar lich chen lein tum ung ei ismus ist ion tion ik
    isch haft haftig los weis mass mal fach artig ling rung
    erweis
""".split())


def _zipf(frequency: float) -> float:
    return math.log10(frequency * 1e9) if frequency > 0 else 0.0


def fold(word: str) -> str:
    """A lowercase word with umlauts and ß folded as the German stemmer folds them."""
    return word.lower().translate(_FOLD)


_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_HEAD_PREFIX = "bundes"  # stems the rest of a word as it is stemmed at the end of a compound


def lexicon_from_wordfreq(min_zipf: float = MIN_ZIPF):
    """Known German heads and modifiers, from ``wordfreq``'s German word list.

    ``heads`` maps a stem as it ends a compound term to its Zipf frequency and
    to the stem the word has on its own (``schwierigkeiten`` ends
    ``zahlungsschwier`` but is ``schwierig`` alone); ``modifiers`` maps stems
    and folded words to their frequency, since a modifier keeps its full form
    inside a compound (``regierungs|sprecher``).
    """
    import wordfreq

    from .chains import stopwords_of

    stop = set(stopwords_of("de"))
    words = [(w, f) for w, f in wordfreq.get_frequency_dict("de", "large").items()
             if w.isalpha() and _zipf(f) >= min_zipf and w not in stop and len(w) >= 3]
    stemmer = Stemmer.Stemmer("german")
    stems = stemmer.stemWords([w for w, _ in words])
    tails = stemmer.stemWords([_HEAD_PREFIX + w for w, _ in words])
    head_totals: Counter = Counter()
    alone: dict[str, tuple[float, str]] = {}
    modifier_totals: Counter = Counter()
    for (word, frequency), stem, tail in zip(words, stems, tails):
        modifier_totals[stem] += frequency
        folded = fold(word)
        if folded != stem:
            modifier_totals[folded] += frequency
        tail = tail[len(_HEAD_PREFIX):] if tail.startswith(_HEAD_PREFIX) else stem
        for form in {stem, tail}:
            head_totals[form] += frequency
            if form not in alone or alone[form][0] < frequency:
                alone[form] = (frequency, stem)
    heads = {form: (zipf, alone[form][1]) for form, zipf in _known(head_totals).items()}
    return heads, _known(modifier_totals)


def _known(totals: Counter) -> dict[str, float]:
    known = {}
    for stem, frequency in totals.items():
        zipf = _zipf(frequency)
        size = len(stem)
        if size < 3 or (size == 3 and stem not in SHORT_STEMS):
            continue
        if size == 4 and zipf < MIN_ZIPF_4:
            continue
        known[stem] = round(zipf, 3)
    return known


class CompoundSplitter:
    """Splits index terms into the index terms of their parts; results are cached."""

    def __init__(self, heads: dict[str, tuple[float, str]], modifiers: dict[str, float]):
        stemmer = Stemmer.Stemmer("german")
        stem = stemmer.stemWord
        not_parts = NOT_PARTS | {stem(w) for w in NOT_PARTS}
        not_modifiers = not_parts | NOT_MODIFIERS | {stem(w) for w in NOT_MODIFIERS}
        self._heads = {s: v for s, v in heads.items() if s not in not_parts and v[1] not in not_parts}
        self._modifiers = {s: z for s, z in modifiers.items() if s not in not_modifiers}
        self._stem = stem
        self._cache: dict[str, tuple[str, ...]] = {}
        # the lengths of the linking elements that the next three letters can start with
        self._links: dict[str, tuple[int, ...]] = {}
        self._automaton = ahocorasick.Automaton()
        for modifier, zipf in self._modifiers.items():
            if len(modifier) >= 3:  # a modifier has three letters at least
                self._automaton.add_word(modifier, (len(modifier), zipf))
        self._automaton.make_automaton()

    def forget(self) -> None:
        """Forget the splits found so far."""
        self._cache = {}

    def split(self, term: str) -> tuple[str, ...]:
        """The parts of ``term`` as index terms (not ``term`` itself); empty for no compound."""
        cached = self._cache.get(term)
        if cached is None:
            cached = self._split(term) if len(term) >= MIN_TERM_CHARS and term.isalpha() else ()
            self._cache[term] = cached
        return cached

    def parts(self, terms) -> list[str]:
        """The parts of every term in ``terms``, once per occurrence."""
        out: list[str] = []
        split = self.split
        for term, count in Counter(terms).items():
            pieces = split(term)
            if pieces:
                out.extend(pieces * count)
        return out

    def part_counts(self, *groups) -> dict[str, int]:
        """How often each part occurs in what :meth:`parts` gives for the terms of
        ``groups``, each ``(distinct terms, their counts)``."""
        out: dict[str, int] = {}
        get = out.get
        cache = self._cache
        split = self.split
        for terms, counts in groups:
            for term, count in zip(terms, counts):
                pieces = cache.get(term)
                if pieces is None:
                    pieces = split(term)
                for piece in pieces:
                    out[piece] = get(piece, 0) + count
        return out

    def segment(self, term: str) -> list[tuple[int, int]]:
        """Where ``term`` splits: ``(start, end)`` of each part, linking elements left out."""
        spans = self._segment(term) if len(term) >= MIN_TERM_CHARS and term.isalpha() else None
        return [(start, end) for start, end, _ in spans] if spans else []

    # -- the search --------------------------------------------------------

    def _split(self, term: str) -> tuple[str, ...]:
        spans = self._segment(term)
        if spans is None:
            return ()
        last = len(spans) - 1
        parts = set()
        # every part, and every longer run of parts that is a word itself
        # (bundestag in bundestagswahlkampf)
        for i in range(len(spans)):
            for j in range(i, len(spans)):
                if i == 0 and j == last:
                    continue
                start, end = spans[i][0], spans[j][1]
                if j == last:
                    known = self._heads.get(term[start:])
                    if known is not None:
                        parts.add(known[1])
                elif i == j:
                    parts.add(self._stem(term[start:end]))
                else:
                    for run in (term[start:end], term[start:spans[j][2]]):
                        if run in self._modifiers:
                            parts.add(self._stem(run))
                            break
        parts.discard(term)
        return tuple(sorted(parts))

    def _segment(self, term: str):
        """The reading of ``term`` as the fewest known stems (2..MAX_PARTS), or ``None``.

        Among readings with as many parts, the one whose parts are most
        common (highest mean Zipf frequency) wins. Spans are
        ``(start, end, end with linking element)``.
        """
        size = len(term)
        heads = self._heads
        links_of = self._links
        # Every known modifier inside the term, found in one pass of the automaton
        # (a dict lookup of every substring cost 50 µs a term): the ends of those
        # starting at each position, ascending, that leave room for a head.
        ends_at: dict[int, list] = {}
        for last, (length, zipf) in self._automaton.iter(term):
            if last < size - 3:
                start = last + 1 - length
                found = ends_at.get(start)
                if found is None:
                    ends_at[start] = [(last + 1, zipf)]
                else:
                    found.append((last + 1, zipf))
        # layer[i]: best (score, spans) for term[:i] read as n modifiers with their links
        layer: dict[int, tuple[float, list]] = {0: (0.0, [])}
        for n in range(MAX_PARTS):
            best = None
            if n >= 1:
                for start, (score, spans) in layer.items():
                    known = heads.get(term[start:])
                    if known is not None:
                        mean = (score + known[0]) / (n + 1)
                        if best is None or mean > best[0]:
                            best = (mean, spans + [(start, size, size)])
                if best is not None:
                    return best[1]
            if n + 1 >= MAX_PARTS:
                break
            following: dict[int, tuple[float, list]] = {}
            for start, (score, spans) in layer.items():
                for end, zipf in ends_at.get(start, ()):
                    look = term[end:end + 3]
                    links = links_of.get(look)
                    if links is None:
                        links = links_of[look] = tuple(len(f) for f in FUGEN
                                                       if look.startswith(f))
                    for link in links:
                        after = end + link
                        if after > size - 3:
                            continue
                        entry = (score + zipf, spans + [(start, end, after)])
                        known = following.get(after)
                        if known is None or entry[0] > known[0]:
                            following[after] = entry
            if not following:
                return None
            layer = following
        return None


_lock = threading.Lock()
_splitter: CompoundSplitter | None = None


def _lexicon_file(min_zipf: float) -> Path:
    """Where the lexicon made by this code from these package versions is kept."""
    from importlib.metadata import PackageNotFoundError, version

    versions = []
    for package in ("wordfreq", "PyStemmer", "whoosh-reloaded"):
        try:
            versions.append(version(package))
        except PackageNotFoundError:
            versions.append("")
    key = hashlib.blake2b(Path(__file__).read_bytes() + repr((min_zipf, versions)).encode(),
                          digest_size=10).hexdigest()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "newssearch" / f"compound-lexicon-{key}.marshal"


def cached_lexicon(min_zipf: float = MIN_ZIPF):
    """:func:`lexicon_from_wordfreq`, kept in a file in the user's cache folder after the
    first build: reading it takes a fraction of building it. The file's name holds a
    digest of this module and of the versions of the packages it draws on, so any
    change to them builds it anew; where no file can be written, it is built each time."""
    try:
        path = _lexicon_file(min_zipf)
        heads, modifiers = marshal.loads(path.read_bytes())
        if isinstance(heads, dict) and isinstance(modifiers, dict):
            return heads, modifiers
    except (OSError, ValueError, EOFError, TypeError):
        path = None
    lexicon = lexicon_from_wordfreq(min_zipf)
    try:
        path = path or _lexicon_file(min_zipf)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(marshal.dumps(lexicon))
        os.replace(temporary, path)
    except (OSError, ValueError):
        pass
    return lexicon


@on_pressure
def _forget_splits() -> None:
    """Under memory pressure: the splits found so far go (each is found again on use)."""
    if _splitter is not None:
        _splitter.forget()


def german_splitter() -> CompoundSplitter:
    """The process-wide German splitter (its lexicon is built on first use, a few seconds,
    and read from the cache folder afterwards)."""
    global _splitter
    if _splitter is None:
        with _lock:
            if _splitter is None:
                _splitter = CompoundSplitter(*cached_lexicon())
    return _splitter
