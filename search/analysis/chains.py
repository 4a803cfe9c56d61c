"""Text analysis: words to index terms, one chain per language.

Every chain does the same steps in one pass: split into words (letters and
digits; hyphens, apostrophes and punctuation separate words), lowercase, drop
the language's stopwords, and reduce each word to its Snowball stem
(PyStemmer). The German Snowball stemmer also folds umlauts and their
``ae``/``oe``/``ue`` spellings and ``ß``/``ss``, so ``Häuser``, ``Haeuser``
and ``Haus`` meet at one term.

Stopwords are matched in both spellings too (``für`` and ``fuer``, ``daß``
and ``dass``), so a query typed without umlauts loses the same words.

German terms that are compounds also yield the terms of their parts
(:mod:`search.compounds`): ``Flüchtlingspolitik`` gives ``fluchtling`` and
``polit``. They are indexed in a field of their own, beside the text, so a
search for ``Politik`` finds the compound while whole-word matches rank first.

The same chain analyses articles at index time, queries at search time and
the stored text again when snippets are cut, so all three always agree.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import Stemmer

WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_WORD_CHARS = 64
_STEM_CACHE_SIZE = 200_000

# ISO 639-1 code -> PyStemmer algorithm name
_STEMMERS = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german",
    "el": "greek", "en": "english", "es": "spanish", "et": "estonian", "eu": "basque",
    "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi", "hu": "hungarian",
    "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "nl": "dutch", "no": "norwegian", "pl": "polish", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil",
    "tr": "turkish", "yi": "yiddish",
}
_PLAIN = "xx"  # the chain for languages without a stemmer: lowercase only
# Languages whose compounds are split into parts at index time.
_COMPOUND_LANGS = frozenset({"de"})
_UMLAUT_SPELLINGS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))
_STOPWORDS = Path(__file__).with_name("stopwords")


@lru_cache(maxsize=None)
def stopwords_of(lang: str) -> frozenset[str]:
    """The Snowball stopword list of ``lang`` (``stopwords/<lang>.txt``), empty when there is none."""
    try:
        text = (_STOPWORDS / f"{lang}.txt").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError, ValueError):
        return frozenset()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def lowercase_keeps_words(text: str) -> bool:
    """True when the words of ``text.lower()`` are the lowercased words of ``text``
    (and its offsets are those of ``text``): İ and Σ are the only characters whose
    lowercase is not one word character of the same kind (İ becomes two characters)
    or depends on what follows (Σ, final sigma). Two substring searches: a fiftieth
    of the time of a character-class regular expression over a news article."""
    return "\u0130" not in text and "\u03a3" not in text


def spelling_variants(word: str) -> set[str]:
    """``word`` with umlauts written ``ae``/``oe``/``ue`` and ``ß`` as ``ss``, and back for ``ss``."""
    variants = {word}
    folded = word
    for letter, spelled in _UMLAUT_SPELLINGS:
        folded = folded.replace(letter, spelled)
    variants.add(folded)
    if "ss" in word:
        variants.add(word.replace("ss", "ß"))
    return variants


def normalise_query_text(text: str) -> str:
    """Query text in NFC, as the corpus text is: a pasted ``u`` + combining diaeresis is ``ü``."""
    return unicodedata.normalize("NFC", text) if not text.isascii() else text


class LanguageChain:
    """The analysis chain of one language."""

    def __init__(self, lang: str):
        self.lang = lang
        algorithm = _STEMMERS.get(lang)
        self._stemmer = Stemmer.Stemmer(algorithm, _STEM_CACHE_SIZE) if algorithm else None
        # For many words at once, words its caller has not stemmed before (the batch
        # analysis stems each new word once): no cache, whose upkeep cost more than the
        # stemming (62,000 distinct words of FANG: 0.065 s without, 0.15 s with one).
        self._bulk_stemmer = Stemmer.Stemmer(algorithm, 0) if algorithm else None
        self._terms: dict = {}  # word -> index term, False for words not indexed
        self._empty_stems = False
        stopwords = stopwords_of(lang) if lang.isalpha() else frozenset()
        if lang == "de":
            stopwords = {v for word in stopwords for v in spelling_variants(word)}
        self.stopwords = frozenset(stopwords)
        self.splits_compounds = lang in _COMPOUND_LANGS

    def stem(self, word: str) -> str:
        """The stem of one lowercase word (stopwords are not checked here)."""
        return self._stemmer.stemWord(word) if self._stemmer else word

    def stems(self, words) -> list[str]:
        """The stems of lowercase words, in order (the words themselves without a stemmer),
        each stemmed afresh."""
        return self._bulk_stemmer.stemWords(words) if self._bulk_stemmer else list(words)

    def tokens(self, text: str) -> list[str]:
        """Every lowercase word of ``text`` in order, stopwords included."""
        if lowercase_keeps_words(text):
            # Lowercasing the whole text first splits it into the same words.
            return WORD.findall(text.lower())
        return [w.lower() for w in WORD.findall(text)]

    def words(self, text: str) -> list[str]:
        """The lowercase words of ``text`` that are not stopwords."""
        stop = self.stopwords
        return [w for w in self.tokens(text) if w not in stop and len(w) <= MAX_WORD_CHARS]

    def terms(self, text: str) -> list[str]:
        """The index terms of ``text`` in order (positions are list indexes)."""
        return self.terms_of_tokens(self.tokens(text))

    def terms_of_tokens(self, tokens: list[str]) -> list[str]:
        """The index terms of the words ``tokens`` (from :meth:`tokens`), in order."""
        # One dict in front of the stop list, the length limit and the stemmer: a
        # lookup costs a fraction of a call into PyStemmer, even when that call hits
        # its own cache. Words that are not indexed map to False.
        cache = self._terms
        found = list(map(cache.get, tokens))
        if None in found:
            fresh = self._learn({w for w, t in zip(tokens, found) if t is None})
            found = [fresh[w] if t is None else t for w, t in zip(tokens, found)]
        if self._empty_stems:
            return [t for t in found if t is not False]
        return list(filter(None, found))

    def _learn(self, words: set[str]) -> dict:
        stop = self.stopwords
        indexed = [w for w in words if w not in stop and len(w) <= MAX_WORD_CHARS]
        fresh = dict.fromkeys(words, False)
        stems = self._stemmer.stemWords(indexed) if self._stemmer else indexed
        fresh.update(zip(indexed, stems))
        if "" in stems:  # no stemmer does this; kept exact should one ever do
            self._empty_stems = True
        cache = self._terms
        if len(cache) + len(fresh) > _STEM_CACHE_SIZE:
            cache.clear()
        cache.update(fresh)
        return fresh

    def compound_parts(self, terms) -> list[str]:
        """The terms of the parts of every compound among ``terms`` (once per occurrence).

        Empty for languages whose compounds are not split. Cheap after the
        first call: splits are cached per distinct term.
        """
        if not self.splits_compounds or not terms:
            return []
        from .compounds import german_splitter

        return german_splitter().parts(terms)

    def compound_part_counts(self, *groups) -> dict[str, int]:
        """How often each term of :meth:`compound_parts` occurs, for the terms of
        ``groups``, each ``(distinct terms, their counts)``."""
        if not self.splits_compounds:
            return {}
        from .compounds import german_splitter

        return german_splitter().part_counts(*groups)

    def spans(self, text: str):
        """``(start, end, term)`` for every indexed word of ``text``.

        ``term`` is ``None`` for stopwords. Offsets are into ``text`` itself.
        """
        stop = self.stopwords
        stem = self.stem
        for match in WORD.finditer(text):
            word = match.group().lower()
            if word in stop or len(word) > MAX_WORD_CHARS:
                yield match.start(), match.end(), None
            else:
                yield match.start(), match.end(), stem(word)


@lru_cache(maxsize=None)
def chain_for(lang: str | None) -> LanguageChain:
    """The chain for ``lang``: its own stemmer where there is one, else lowercase only."""
    code = (lang or "").lower()
    return LanguageChain(code if code in _STEMMERS else _PLAIN)


def has_stemmer(lang: str | None) -> bool:
    return (lang or "").lower() in _STEMMERS


def stopword_langs(word: str, langs) -> tuple[str, ...]:
    """The languages among ``langs`` (``de`` when none) whose stopwords hold ``word``."""
    lowered = normalise_query_text(word).lower()
    return tuple(lang for lang in (tuple(langs) or ("de",)) if lowered in chain_for(lang).stopwords)


def query_terms(word: str, langs) -> list[str]:
    """The index terms one query word stands for across ``langs``.

    Each language analyses the word on its own: a language whose stopwords
    hold it gives no term, the others give their stem (``WHO`` is an English
    stopword but not a German one, so it is searched as the German ``who``).
    Empty when the word is a stopword in every one of ``langs``: such a word
    is dropped from the query rather than making it unanswerable.
    """
    lowered = normalise_query_text(word).lower()
    chains = [chain_for(lang) for lang in langs] or [chain_for("de")]
    return sorted({chain.stem(lowered) for chain in chains if lowered not in chain.stopwords})
