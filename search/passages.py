"""Cutting a snippet out of a text: a budget of characters over a few passages.

:mod:`search.highlight` finds where the query's words are (spans); this module
decides what of the text is shown around them:

* **A budget, not a count of lines.** The whole snippet holds about
  ``chars`` characters (``Settings.snippet_chars``, 300) over at most
  ``fragments`` passages (3), each passage a share of the budget. The page
  shows what is served, so a screen reader reads no more than the eye sees.
  (Before, passages grew with every nearby match: up to 3,781 characters,
  median 756 over 4,000 FANG snippets, shown clipped to five lines.)
* **Clean edges.** A passage starts at the start of a sentence when one lies
  within its share before the first match, else at the start of a word; it
  ends at the end of a sentence when one lies in the last 40 % of its share,
  else after a whole word. Punctuation at a cut edge ("…, das", "…...") is
  dropped, so a passage never starts with a comma or ends with a dangling
  dash or the text's own dots.
* **One ellipsis per gap.** Passages are joined by exactly one ``…``; a
  leading or trailing ``…`` says only that a sentence was cut there.
* **Paragraph breaks read as such.** A break after a subheading (see
  ``HEADING_*`` below) becomes ``". "``, so that "… von Impfung Nach Ansicht"
  reads "… von Impfung. Nach Ansicht"; any other break becomes a space, because
  many archived texts break lines in mid-sentence (in part 000 of FANG-COVID
  about 9,000 of 23,000 breaks follow no final punctuation, most of them inside
  a sentence).

The HTML and the plain snippet are cut at the same places: the HTML is the
plain text escaped, with the matched words in ``<mark>``.
"""

from __future__ import annotations

import re
from html import escape

ELLIPSIS = "…"
# Of a passage's share, at most this part comes before the first match when no
# sentence starts there (the rest follows the match, which reads on).
BEFORE_SHARE = 0.35
# A passage ends at a sentence end only if that leaves it at least this part of its share.
SENTENCE_END_SHARE = 0.6
# A subheading: a line of at most HEADING_MAX_CHARS characters without final
# punctuation, after a finished sentence, before a paragraph of at least
# HEADING_NEXT_CHARS. (Of 620 such short lines in 200 FANG articles, those followed
# by a short line were nearly all text wrapped in mid-sentence, those followed by a
# long paragraph nearly all subheadings.)
# A passage may run this far over its share to end a word its last match is part of.
WORD_OVER_CHARS = 40
HEADING_MAX_CHARS = 100
HEADING_NEXT_CHARS = 120

_BREAK = re.compile(r"[ \t]*\n\s*")
_SPACE = re.compile(r"\s")
# The end of a sentence: . ! ? … (and closing quotes or brackets), then white space
# and a capital, a digit or an opening quote. A full stop after a digit is a German
# ordinal ("am 15. März"), after a single letter or a common abbreviation it is none
# either ("S. Fischer", "Dr. Drosten"). (The look-ahead needs the text after it, so
# searches run a little past where a match may end.) The look-behinds follow the
# full stop, so they are tried at full stops only, not at every character: the same
# matches, twelve times faster (it was a tenth of a query's time with snippets).
_SENTENCE_END = re.compile(
    r"(?:\.(?<![0-9]\.)(?<!\b\w\.)(?<!\bDr\.)(?<!\bNr\.)(?<!\bSt\.)(?<!\bca\.)(?<!\bbzw\.)"
    r"(?<!\bvgl\.)(?<!\bProf\.)(?<!\bgeb\.)|[!?…])[\"'“”»«)\]]*(?=\s+[\"'„“«»(\[]?[A-ZÄÖÜ0-9])")
_LOOK_AHEAD = 8
_FINAL = re.compile(r"[.!?…:;\"'“”»«)\]]$")
_INNER_SENTENCE_END = re.compile(r"[.!?]\s")
# Characters a passage may not start with, and may not end with.
_LEADING_JUNK = frozenset(".,;:!?…–—-)]” \t\n")
_TRAILING_JUNK = frozenset(",;:–—-([„ \t\n")


def cut(text: str, spans: list[tuple[int, int]], *, fragments: int,
        chars: int) -> tuple[str, str]:
    """``(html, plain)``: the passages of ``text`` around ``spans`` (sorted, not
    overlapping), or its lead when there are none."""
    chars = max(40, chars)
    fragments = max(1, fragments)
    if not spans:
        return _join(text, [(0, _end_at(text, 0, chars, 0), [])])
    # Matches nearer than half a passage's share go into one passage.
    windows = _windows(spans, chars // fragments // 2)
    if len(windows) <= fragments:
        ranked = windows  # all of them, in text order
    else:
        ranked = sorted(windows, key=lambda w: (-len({text[s:e].lower() for s, e in w}),
                                                -len(w), w[0][0]))[:fragments]
        ranked.sort(key=lambda w: w[0][0])
    share = chars // len(ranked)
    passages: list[tuple[int, int, list]] = []
    for inner in ranked:
        start, end, kept = _passage(text, inner, share)
        if passages and start <= passages[-1][1]:
            # Touches the previous one: one passage, never two with nothing between.
            previous = passages.pop()
            start, end, kept = previous[0], max(end, previous[1]), previous[2] + kept
        passages.append((start, end, kept))
    return _join(text, passages)


def mark(text: str, spans) -> str:
    """``text`` escaped, with ``spans`` wrapped in ``<mark>``."""
    out = []
    at = 0
    for start, end in spans:
        out.append(escape(text[at:start], quote=False))
        out.append("<mark>" + escape(text[start:end], quote=False) + "</mark>")
        at = end
    out.append(escape(text[at:], quote=False))
    return "".join(out)


def _windows(spans, near: int) -> list[list[tuple[int, int]]]:
    windows: list[list[tuple[int, int]]] = []
    for span in spans:
        if windows and span[0] - windows[-1][-1][1] <= near:
            windows[-1].append(span)
        else:
            windows.append([span])
    return windows


def _passage(text: str, inner, share: int):
    """Where one passage starts and ends, and the matches it keeps."""
    first = inner[0][0]
    kept = [span for span in inner if span[1] - first <= share] or inner[:1]
    last = kept[-1][1]
    room = max(0, share - (last - first))
    start = _sentence_start(text, first, room)
    if start is None:
        start = _word_start(text, max(0, first - int(room * BEFORE_SHARE)), first)
    return start, _end_at(text, start, share, last), kept


def _sentence_ends(text: str, low: int, high: int) -> list[int]:
    """The ends of sentences between ``low`` and ``high``."""
    return [m.end() for m in _SENTENCE_END.finditer(text, low, min(len(text), high + _LOOK_AHEAD))
            if m.end() <= high]


def _sentence_start(text: str, first: int, room: int) -> int | None:
    """The latest start of a sentence or paragraph at most ``room`` characters before
    ``first``."""
    low = max(0, first - room)
    if low == 0:
        return 0
    ends = _sentence_ends(text, low, first)
    found = ends[-1] if ends else None
    newline = text.rfind("\n", low, first)
    if newline >= 0 and (found is None or newline + 1 > found) and _paragraph_ends(text, newline):
        found = newline + 1
    if found is None:
        return None
    while found < first and text[found].isspace():
        found += 1
    return found


def _word_start(text: str, at: int, limit: int) -> int:
    """The first start of a word at or after ``at`` (never past ``limit``)."""
    if at > 0 and not text[at - 1].isspace():
        space = _SPACE.search(text, at, limit)
        at = space.end() if space else limit
    while at < limit and text[at] in _LEADING_JUNK:
        at += 1
    return at


def _end_at(text: str, start: int, share: int, last: int) -> int:
    """Where a passage from ``start`` ends: at a sentence end in the last part of its
    ``share``, else after the last whole word within it (never before ``last``)."""
    limit = start + share
    if limit >= len(text):
        return len(text)
    ends = _sentence_ends(text, max(last, start + int(share * SENTENCE_END_SHARE)), limit)
    if ends:
        return ends[-1]
    end = limit
    if not text[end].isspace():
        end = max(text.rfind(" ", last, end), text.rfind("\n", last, end))
        if end < last:
            # No word ends between the match and the limit: finish the word (a few
            # characters over), rather than cut it.
            space = _SPACE.search(text, limit, limit + WORD_OVER_CHARS)
            end = space.start() if space else limit
    while end > last:
        if text[end - 1] in _TRAILING_JUNK:
            end -= 1
        elif text.endswith("...", 0, end):
            end -= 3
        elif text[end - 1] == ELLIPSIS:
            end -= 1
        else:
            break
    return end


def _starts_clean(text: str, start: int) -> bool:
    """Whether ``start`` is the start of the text, a paragraph or a sentence."""
    before = start
    while before > 0 and text[before - 1] in " \t":
        before -= 1
    if before == 0:
        return True
    if text[before - 1] == "\n":
        return _paragraph_ends(text, before - 1)
    return before in _sentence_ends(text, max(0, before - 4), before)


def _ends_clean(text: str, end: int) -> bool:
    """Whether ``end`` is the end of the text, a paragraph or a sentence."""
    rest = text[end:end + 2].lstrip(" \t")
    if not rest:
        return True
    if rest.startswith("\n"):
        return _paragraph_ends(text, text.index("\n", end))
    return end in _sentence_ends(text, max(0, end - 4), end)


def _paragraph_ends(text: str, newline: int) -> bool:
    """Whether the line break at ``newline`` ends a sentence or a subheading (not a
    line of text wrapped in mid-sentence)."""
    start = newline
    while start > 0 and text[start - 1] in " \t\n":
        start -= 1
    if start == 0 or _FINAL.search(text, max(0, start - 1), start):
        return True
    match = _BREAK.match(text, start)
    return match is not None and _separator(text, start, match.end()) == ". "


def _join(text: str, passages) -> tuple[str, str]:
    html_parts, plain_parts = [], []
    for index, (start, end, inner) in enumerate(passages):
        piece = text[start:end]
        separators = [_separator(text, start + m.start(), start + m.end())
                      for m in _BREAK.finditer(piece)]
        html = mark(piece, [(s - start, e - start) for s, e in inner])
        plain = piece
        if separators:  # (marking adds no line breaks)
            html, plain = _breaks(html, separators), _breaks(piece, separators)
        if index or not _starts_clean(text, start):
            html_parts.append(ELLIPSIS)
            plain_parts.append(ELLIPSIS)
        html_parts.append(html)
        plain_parts.append(plain)
    if not _ends_clean(text, passages[-1][1]):
        html_parts.append(ELLIPSIS)
        plain_parts.append(ELLIPSIS)
    return " ".join(html_parts), " ".join(plain_parts)


def _breaks(piece: str, separators: list[str]) -> str:
    found = iter(separators)
    return _BREAK.sub(lambda _: next(found), piece)


def _separator(text: str, at: int, after: int) -> str:
    """What a paragraph break reads as: ``". "`` after a subheading, else a space."""
    low = max(0, at - HEADING_MAX_CHARS - 1)
    newline = text.rfind("\n", low, at)
    if newline < 0 and low > 0:
        return " "  # a line longer than a subheading
    line_start = newline + 1
    line = text[line_start:at].strip()
    if not line or _FINAL.search(line) or len(line) > HEADING_MAX_CHARS \
            or _INNER_SENTENCE_END.search(line):
        return " "
    following = text[after:after + 1]
    if not (following.isupper() or following.isdigit() or following in "\"„“«»"):
        return " "
    previous = text[max(0, line_start - HEADING_MAX_CHARS):line_start].rstrip()
    if previous and not _FINAL.search(previous):
        return " "  # a line of a paragraph broken in mid-sentence
    if "\n" in text[after:after + HEADING_NEXT_CHARS] or len(text) - after < HEADING_NEXT_CHARS:
        return " "  # a short line before another: text wrapped at a fixed width
    return ". "
