"""Snippets stem only the words whose first letter can begin a matched term.

The pre-filter is safe only if every German, English and French stem begins
with its word's first letter (up to the folding of ``search.highlight``): checked
here on the real vocabularies of the shared corpora and on spellings chosen to
break it. The snippets cut with the pre-filter must equal the word-by-word ones.
"""

from __future__ import annotations

import json
import random

from support.corpora import read_fang, shared_corpus, shared_file

from search import Settings, cache, highlight
from search.analysis.chains import WORD, chain_for

TRICKY_DE = """Ärzte Aerzte ärztin Öl Oel Ölpreis Übung Ueberall über ueber Überraschung
Straße Strasse SSpiel ß Maß Masse Äußerung Aeusserung Schlüsselübergabe Corona-Krise
COVID-19-Pandemie Covid19 2020er 19er Yacht yyy Ypsilon Uhu Ufo Ähre Aehre Öde Oede
Ärger Ueber-Gewicht Euro Eis Ei aa Ae Oe Ue Äa Äe Éclair Élysée Œuvre Ÿ Ça
Bundesgesundheitsminister Flüchtlingspolitik Hamsterkäufe Mund-Nasen-Schutz"""
TRICKY_EN = """the The a an ye yes yelling dying lying tying skies skis sky news idly gently
ugly early only singly Yorkshire Ypres Ian's o'clock I'm Y y ys s ies ied eyes
ageing agreed Ärzte café naïve Übermensch Œdipus"""
TRICKY_FR = """le la les l'été été ét ès élan élève élevé Ère ère êtes ïambe ëlo Œuvre œuvre
yeux ya y ça Ça çà à où Île île Âme âme Ôter ôte Ûr Ému émue Écoles écoles éé èè
aujourd'hui qu'il d'Élodie hôpitaux français Française"""


def _words(texts) -> set[str]:
    return {w.lower() for text in texts for w in WORD.findall(text)}


def _vocabularies() -> dict[str, set[str]]:
    german = _words(r["header"] + "\n" + r["article"]
                    for part in ("part-000.jsonl.gz", "part-013.jsonl.gz", "part-028.jsonl.gz")
                    for r in read_fang(part))
    german |= set(shared_file("snowball-german", "voc.txt").read_text(encoding="utf-8").split())
    german |= _words([TRICKY_DE])
    english = _words(p.read_bytes().decode("utf-8", errors="replace")
                     for p in sorted(shared_corpus("bbc-en").rglob("*.txt")))
    english |= _words([TRICKY_EN])
    french = set()
    for path in sorted(shared_corpus("lemonde-rss-fr").glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                french |= _words([record.get("title", ""), record.get("description", "")])
    french |= _words([TRICKY_FR])
    return {"de": german, "en": english, "fr": french}


def test_stems_begin_with_their_words_first_letter():
    vocabularies = _vocabularies()
    assert len(vocabularies["de"]) > 100_000
    assert len(vocabularies["en"]) > 20_000 and len(vocabularies["fr"]) > 10_000
    for lang, words in vocabularies.items():
        assert lang in highlight.FIRST_LETTER_LANGS
        chain = chain_for(lang)
        wrong = {}
        for word in words:
            stem = chain.stem(word)
            if highlight.fold_initial(stem) != highlight.fold_initial(word):
                wrong[word] = stem
        assert not wrong, (lang, sorted(wrong.items())[:20])
    # the folding is needed: without it these would be missed
    assert chain_for("de").stem("ärzte") == "arzt" and chain_for("de").stem("ßa") == "ssa"
    assert chain_for("fr").stem("ét") == "et"


def test_initials_pattern_finds_the_words_with_those_first_letters():
    text = "äb _sx x-ab ßa s2 as éte Œuvre 3d xs öl".lower()
    for letters in ("as", "e", "o", "3", "x", "q"):
        initials = frozenset(letters)
        expected = [w for w in WORD.findall(text) if highlight.fold_initial(w) in initials]
        assert highlight.initials_pattern(initials).findall(text) == expected
    assert highlight.initials_pattern(frozenset("as")).findall(text) == \
        ["äb", "sx", "ab", "ßa", "s2", "as"]


def test_prefiltered_snippets_equal_word_by_word_ones():
    rng = random.Random(7)
    cases = []
    for lang, texts in {
        "de": [r["header"] + "\n\n" + r["article"] for r in read_fang("part-017.jsonl.gz")[:300]]
        + [TRICKY_DE],
        "en": [p.read_bytes().decode("utf-8", errors="replace")
               for p in sorted(shared_corpus("bbc-en").rglob("*.txt"))[::40]] + [TRICKY_EN],
        "fr": [TRICKY_FR],
    }.items():
        chain = chain_for(lang)
        tricky = chain.terms({"de": TRICKY_DE, "en": TRICKY_EN, "fr": TRICKY_FR}[lang])
        for text in texts:
            terms = chain.terms(text)
            for k in (1, 2, 4):
                picked = rng.sample(terms, min(k, len(terms))) + rng.sample(tricky, 2)
                cases.append((text, frozenset(picked), chain))
    # every tricky word on its own as the query
    for lang, tricky in (("de", TRICKY_DE), ("en", TRICKY_EN), ("fr", TRICKY_FR)):
        chain = chain_for(lang)
        for word in tricky.split():
            cases.append(("Text: " + tricky, frozenset(chain.terms(word)), chain))
            # lowercasing moves offsets here (İ, Σ): each word is lowercased on its own
            cases.append(("İstanbul ΟΔΟΣ " + tricky + " İzmir", frozenset(chain.terms(word)),
                          chain))

    def run(scan_chars=Settings().snippet_scan_chars, fast=True):
        return [highlight.snippet(t, terms, c, scan_chars=scan_chars, fast=fast)
                for t, terms, c in cases]

    plain = run(fast=False)
    plain_short = run(scan_chars=400, fast=False)
    cache.clear_all()  # no stretch kept from before
    assert run() == plain
    assert run(scan_chars=400) == plain_short
    assert run() == plain  # stretches kept, learned for some first letters only
    assert sum(1 for html, _ in plain if "<mark>" in html) > len(cases) * 0.7
    marked = " ".join(html for html, _ in plain)
    for word in ("Ärzte", "Aerzte", "Straße", "Strasse", "Élysée", "élève", "Écoles", "Œuvre", "skies"):
        assert f"<mark>{word}</mark>" in marked, word
