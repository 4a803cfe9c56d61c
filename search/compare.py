"""What differs between two versions of an article: a word-level difference.

Near-duplicate clusters (:mod:`search.duplicates`) hold the versions of one
story; the article page lets a reader compare two of them. The texts are
split into words (white space separated, punctuation kept with its word) and
paragraph breaks, :class:`difflib.SequenceMatcher` (without its heuristic
that skips frequent words) finds the longest common runs, and the result is
a list of paragraphs, each a list of segments ``{"op": "same" | "removed" |
"added", "text": ...}``: plain text, which every consumer escapes when it
shows it. Only the first ``diff_max_words`` words of each version are read;
the result says when a text was cut.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_TOKEN = re.compile(r"\n\s*\n|\S+")
_BREAK = "\n\n"


def _tokens(text: str, limit: int) -> tuple[list[str], bool]:
    tokens = []
    for match in _TOKEN.finditer(text or ""):
        token = match.group()
        tokens.append(_BREAK if token.isspace() else token)
        if len(tokens) >= limit:
            return tokens, match.end() < len((text or "").rstrip())
    return tokens, False


def _paragraphs(segments: list[tuple[str, list[str]]]) -> list[list[dict]]:
    """Segments of tokens → paragraphs of segments of text (breaks split paragraphs)."""
    paragraphs: list[list[dict]] = [[]]
    for op, tokens in segments:
        words: list[str] = []
        for token in tokens + [None]:
            if token is None or token == _BREAK:
                if words:
                    paragraphs[-1].append({"op": op, "text": " ".join(words)})
                    words = []
                if token == _BREAK and paragraphs[-1]:
                    paragraphs.append([])
            else:
                words.append(token)
    return [p for p in paragraphs if p]


def word_diff(old: str, new: str, max_words: int) -> dict:
    """The word-level difference of ``old`` and ``new``: ``{"paragraphs": [[segment…]…],
    "similarity": share of matching words (0..1), "removed": words, "added": words,
    "truncated": whether a text was cut at ``max_words``}``."""
    first, cut_first = _tokens(old, max_words)
    second, cut_second = _tokens(new, max_words)
    matcher = SequenceMatcher(None, first, second, autojunk=False)
    segments: list[tuple[str, list[str]]] = []
    removed = added = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(("same", first[i1:i2]))
            continue
        if tag in ("delete", "replace"):
            segments.append(("removed", first[i1:i2]))
            removed += sum(1 for t in first[i1:i2] if t != _BREAK)
        if tag in ("insert", "replace"):
            segments.append(("added", second[j1:j2]))
            added += sum(1 for t in second[j1:j2] if t != _BREAK)
    return {"paragraphs": _paragraphs(segments), "similarity": round(matcher.ratio(), 4),
            "removed": removed, "added": added, "truncated": cut_first or cut_second}
