"""A Whoosh analyzer view of the language chains (:mod:`search.analysis`).

Articles are indexed from term lists that the chains produce directly; the
schema names this analyzer so that Whoosh's own tools (its query parser,
``Index.add_document`` with plain strings) give the same terms.
"""

from __future__ import annotations

from whoosh.analysis import Analyzer, Token

from ...analysis import chain_for


class NewsAnalyzer(Analyzer):
    """Whoosh analyzer view of a chain, for Whoosh's own tools.

    Articles are indexed from term lists that the chains produce directly;
    this analyzer gives the same terms for plain strings.
    """

    def __init__(self, lang: str = "de"):
        self.lang = lang

    def __eq__(self, other):
        return isinstance(other, NewsAnalyzer) and other.lang == self.lang

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, mode="", **kwargs):
        chain = chain_for(self.lang)
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for start, end, term in chain.spans(value):
            if term is None:
                continue
            token.text = term
            token.stopped = False
            token.boost = 1.0
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            pos += 1
            yield token
