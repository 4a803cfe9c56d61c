"""Words as typed rank first: the last step of ranking a plain word query.

The index holds stems, so ``Treffens`` and ``Treffer`` are one term and an
article holding the words of a query only in other forms can outscore the one
that holds them as typed. For the first hits of a plain word query (the
``exact_form_depth`` best), each query word that a hit's title or text holds
exactly as typed (case, umlauts and ``ß`` aside: ``Muenchen`` is ``München``)
multiplies its score by ``1 + exact_form_boost``; the hits are then ordered
by that score, ties keeping their order. Only the order within those first
hits changes, so paging stays consistent: the page size does not change
which hits are compared.
"""

from __future__ import annotations

from .analysis import WORD, normalise_query_text

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def folded_words(text: str) -> set[str]:
    """The words of ``text``, lowercase, with umlauts and ``ß`` spelled out."""
    return set(WORD.findall(text.lower().translate(_FOLD)))


def query_forms(texts) -> frozenset[str]:
    """The folded words of the query words ``texts``."""
    return frozenset(w for text in texts for w in folded_words(normalise_query_text(text)))


def prefer_exact(items, forms: frozenset[str], boost: float, depth: int) -> list:
    """``items`` (``(stored fields, score)`` in rank order) with the first ``depth`` re-ranked."""
    if not forms or boost <= 0 or len(items) < 2:
        return list(items)
    head = []
    for position, (stored, score) in enumerate(items[:depth]):
        held = len(forms & folded_words(f"{stored.get('title') or ''} {stored.get('text') or ''}"))
        head.append(((score or 0.0) * (1.0 + boost) ** held, position, stored))
    head.sort(key=lambda entry: (-entry[0], entry[1]))
    return [(stored, score) for score, _, stored in head] + list(items[depth:])
