"""Near-duplicate signatures computed for many articles at once are datasketch's MinHash.

``search.duplicates.signatures`` permutes the shingle hashes of a whole batch of
articles with numpy; each signature must equal what datasketch's own ``MinHash``
(affine32 scheme, the fixed seed, ``update_batch``) gives for that article's
shingles, so stored signatures and clusters stay the same. Real FANG texts, one
longer than a chunk of permuted shingles (so that an article spans two chunks),
and texts too short to be signed. The indexer signs from the words of a batch
analysis (``signatures_of_words``): the same signatures as from the texts, also
for texts whose lowercasing changes their words and for languages without a
stemmer.
"""

from __future__ import annotations

import numpy as np
from datasketch import MinHash

from search import Settings
from search.analysis.batch import BatchAnalyser
from search.duplicates import (SCHEME, SEED, Signing, shingle_hashes, signature, signatures,
                               signatures_of_words, words_of)


def datasketch_signature(text: str, signing: Signing):
    words = words_of(text)
    if len(words) < max(signing.min_words, signing.shingle_words):
        return None
    minhash = MinHash(num_perm=signing.permutations, seed=SEED, hashfunc=int, scheme=SCHEME)
    minhash.update_batch(shingle_hashes(words, signing.shingle_words).tolist())
    return np.asarray(minhash.hashvalues, dtype=np.uint32)


def test_signatures_of_a_batch_equal_datasketch_minhashes(fang000):
    signing = Signing.of(Settings())
    texts = [record["article"] for record in fang000[:150]]
    long_text = " ".join(texts[:12])  # more shingles than one chunk of the batch holds
    assert len(words_of(long_text)) > 5_000
    texts += [long_text, "zu kurz", "", " ".join(["Wort"] * 40)]
    batch = signatures(texts, signing)
    assert len(batch) == len(texts)
    expected = [datasketch_signature(text, signing) for text in texts]
    assert batch[-3] is None and batch[-2] is None and batch[-1] is not None
    assert sum(value is None for value in expected) >= 2
    for got, want in zip(batch, expected):
        if want is None:
            assert got is None
        else:
            assert got.dtype == np.uint32 and np.array_equal(got, want)
    # one at a time, and from the words instead of the text, the same
    assert np.array_equal(signature(texts[3], signing), expected[3])
    assert np.array_equal(signatures([words_of(texts[4])], signing)[0], expected[4])


def test_no_signatures_when_duplicates_are_not_found(fang000):
    signing = Signing.of(Settings(find_duplicates=False))
    assert signatures([fang000[0]["article"], fang000[1]["article"]], signing) == [None, None]


def test_signatures_from_the_words_of_a_batch_analysis_equal_those_of_the_texts(fang000):
    signing = Signing.of(Settings())
    articles = [("de", record["header"], record["article"]) for record in fang000[:200]]
    articles += [("de", "kurz", "zu kurz"), ("de", "", ""),
                 ("tr", "İstanbul", "İSTANBUL ΣΊΣΥΦΟΣ ist eine Stadt " * 10),
                 ("xx", "ohne Stemmer", " ".join(["Wort"] * 29) + " Straße"),
                 ("de", "Umlaute", "Maßnahmen für Bürger " * 12 + fang000[0]["article"])]
    batch = BatchAnalyser().analyse(articles, text_words=True)
    from_words = signatures_of_words(batch.text_words, len(articles), signing)
    from_texts = signatures([text for _, _, text in articles], signing)
    assert len(from_words) == len(articles)
    assert from_texts[-5] is None and from_texts[-4] is None and from_texts[-3] is not None
    for got, want in zip(from_words, from_texts):
        if want is None:
            assert got is None
        else:
            assert got is not None and np.array_equal(got, want)
