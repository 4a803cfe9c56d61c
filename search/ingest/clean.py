"""Text cleaning shared by every input format, dates, and the plain text of HTML.

:func:`html_text` is the whole readable text of a page, without any choice of what
is the article: for HTML that the extractor of :mod:`.pages` cannot take apart
(nesting deeper than the parser's limit, a text node over 10 MB). It walks the
markup without recursion, so depth costs nothing.
"""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from bs4 import BeautifulSoup, CData, NavigableString, Tag

# Characters that carry no text: soft hyphen, zero-width space/joiners, word joiner, BOM.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
# Control characters other than tab and newline.
_CONTROL = dict.fromkeys(
    [c for c in range(32) if c not in (9, 10)] + list(range(0x7F, 0xA0)), " "
)
_HAS_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_HAS_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'“”»«]?\s+(?=[\"'„“«»(]?[A-ZÄÖÜ0-9])")
# A period after these ends no sentence: ordinal numbers ("am 1. Juli"), initials
# ("Thomas D. Müller") and common abbreviations ("St. Pölten", "72 Mrd. Euro").
_NOT_AN_END = re.compile(
    r"(?<![^\W_])(?:\d{1,2}|[^\W\d_]|St|Dr|Prof|Mag|Ing|Dipl|Mrd|Mio|Tsd|Nr|Abs|Jh|Wr|vs|"
    r"bzw|ca|evtl|ggf|inkl)\.$")


def clean_text(text: str, *, paragraph_per_line: bool = False, entities: bool = True) -> str:
    """Normalise text and keep its paragraphs, separated by one blank line.

    Unicode NFC, entities decoded, invisible and control characters dropped,
    runs of white space folded. With ``paragraph_per_line`` every line break
    starts a paragraph (JSON records), else only blank lines do. Line and
    paragraph separators (U+2028, U+2029) count as line breaks. Text that an
    HTML parser has decoded already is passed with ``entities=False``.
    """
    text = html_lib.unescape(text) if entities and "&" in text else text
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    if _HAS_INVISIBLE.search(text):  # translate() is slow; most texts have none
        text = text.translate(_INVISIBLE)
    if _HAS_CONTROL.search(text):
        text = text.translate(_CONTROL)
    blocks = text.split("\n") if paragraph_per_line else _PARAGRAPH_BREAK.split(text)
    paragraphs = []
    for block in blocks:
        block = " ".join(block.split())  # each run of (Unicode) white space: one space
        if block:
            paragraphs.append(block)
    return "\n\n".join(paragraphs)


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a cleaned text."""
    return [p for p in text.split("\n\n") if p]


def first_sentence(text: str, max_chars: int) -> str:
    """The first sentence of ``text``, cut at a word boundary near ``max_chars``."""
    lead = text.split("\n\n", 1)[0].strip()
    end = len(lead)
    for match in _SENTENCE_END.finditer(lead):
        if not _NOT_AN_END.search(lead, 0, match.start()):
            end = match.start()
            break
    sentence = lead[:end].strip()
    if len(sentence) <= max_chars:
        return sentence
    cut = sentence[:max_chars].rsplit(" ", 1)[0].rstrip(",;:–- ")
    return cut + " …"


# ---------------------------------------------------------------------------
# Dates

_DATE_FORMATS = (
    ("%Y-%m-%dT%H:%M:%S%z", "full"),
    ("%Y-%m-%dT%H:%M:%S.%f%z", "full"),
    ("%Y-%m-%dT%H:%M%z", "full"),
    ("%Y-%m-%dT%H:%M:%S", "full"),
    ("%Y-%m-%dT%H:%M:%S.%f", "full"),
    ("%Y-%m-%dT%H:%M", "full"),
    ("%Y-%m-%d %H:%M:%S%z", "full"),
    ("%Y-%m-%d %H:%M:%S", "full"),
    ("%Y-%m-%d %H:%M", "full"),
    ("%Y-%m-%d", "day"),
    ("%Y-%m", "month"),
    ("%Y", "year"),
)


@dataclass(frozen=True)
class ArticleDate:
    """A date as precise as it is known: year, month, day or full timestamp."""

    iso: str  # "2020", "2020-03", "2020-03-14" or "2020-03-14T10:00:00+01:00"
    sort_key: int  # YYYYMMDDhhmmss, missing parts as zeros: sorts by time

    @property
    def month(self) -> str | None:
        return self.iso[:7] if len(self.iso) >= 7 else None


def parse_date(value) -> ArticleDate | None:
    """Parse the date spellings found in news data; ``None`` when unknown."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    for fmt, precision in _DATE_FORMATS:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if not 1000 <= moment.year <= 9999:
            return None
        if precision == "full":
            iso = moment.isoformat()
        elif precision == "day":
            iso = moment.strftime("%Y-%m-%d")
        elif precision == "month":
            iso = moment.strftime("%Y-%m")
        else:
            iso = moment.strftime("%Y")
        key = int(moment.strftime("%Y%m%d%H%M%S"))
        if precision == "month":
            key = int(moment.strftime("%Y%m")) * 100_000_000
        elif precision == "year":
            key = moment.year * 10_000_000_000
        return ArticleDate(iso=iso, sort_key=key)
    return None


# ---------------------------------------------------------------------------
# HTML

_DROP_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside",
              "form", "iframe", "svg", "template", "button", "select", "input")
_BLOCK_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre",
               "div", "section", "article", "figcaption", "td", "th", "dd", "dt", "tr")


def html_text(markup: str) -> str:
    """The readable text of an HTML fragment or page, paragraphs kept."""
    return _soup_text(BeautifulSoup(markup, "html.parser"))


def _soup_text(soup) -> str:
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    return clean_text(_block_text(root), entities=False)


_END_OF_BLOCK = object()


def _block_text(root) -> str:
    """The text of ``root``: a paragraph break around every block element, a line break
    for every ``<br>``, comments left out. One pass without recursion, so markup nested
    ten thousand deep costs what flat markup of the same size does."""
    parts = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node is _END_OF_BLOCK:
            parts.append("\n\n")
        elif isinstance(node, Tag):
            if node.name == "br":
                parts.append("\n")
                continue
            if node.name in _BLOCK_TAGS:
                parts.append("\n\n")
                stack.append(_END_OF_BLOCK)
            stack.extend(reversed(node.contents))
        elif type(node) in (NavigableString, CData):  # not comments, doctypes, …
            parts.append(node)
    return "".join(parts)
