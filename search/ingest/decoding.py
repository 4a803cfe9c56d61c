"""Bytes to text, for whole files and for the lines of a streamed record file.

A byte order mark decides; else the settings' encodings are tried in order
(UTF-8, then cp1252, the legacy encoding of German text). Binary data is refused
with a reason instead of being read as text: NUL bytes, or more control
characters than text has. A file cut off in the middle of a character (a
truncated download or copy) loses only that last character.

Record files are read a line at a time (:func:`lines`): a line longer than the
one-article limit is passed over in bounded steps, never held whole, so a
gigabyte without a line break costs no more memory than the limit.
"""

from __future__ import annotations

import codecs
import io
import re
from typing import BinaryIO, Iterator

from ..settings import Settings
from .articles import Unreadable

BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))
SNIFF_BYTES = 65536
_SKIP_STEP = 1024 * 1024


def size_text(size: int) -> str:
    """``20 MB``, ``512 KB`` or ``300 bytes``: a size limit as a reader would write it."""
    for unit, name in ((1024 * 1024, "MB"), (1024, "KB")):
        if size >= unit:
            return f"{size / unit:.3g} {name}"
    return f"{size} bytes"


def decode(data: bytes, settings: Settings) -> str:
    """A whole file's bytes to text; :class:`Unreadable` says why it is not text."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return refuse_binary(_decode_cut(data, encoding))
            except UnicodeDecodeError:
                raise Unreadable(f"not valid {encoding.upper()} despite its byte order mark")
    if b"\x00" in data[:SNIFF_BYTES]:
        raise Unreadable("binary file (contains NUL bytes)")
    for encoding in settings.encodings:
        try:
            return refuse_binary(_decode_cut(data, encoding))
        except UnicodeDecodeError:
            continue
    raise Unreadable("not valid text in " + " or ".join(settings.encodings))


def _decode_cut(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        if error.end == len(data) and len(data) - error.start < 4 and \
                error.reason in ("unexpected end of data", "truncated data"):
            return data[:error.start].decode(encoding)
        raise


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


def refuse_binary(text: str) -> str:
    sample = text[:SNIFF_BYTES]
    if sample and len(_CONTROL_CHARS.findall(sample)) > max(8, len(sample) // 50):
        raise Unreadable("binary file (too many control characters)")
    return text


def decode_line(raw: bytes, settings: Settings) -> str:
    """One line of a record file: the settings' encodings in order, the last one lenient."""
    encodings = settings.encodings
    for encoding in encodings[:-1]:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode(encodings[-1], errors="replace")


def lines(stream: BinaryIO, settings: Settings) -> Iterator[tuple[int, str | None]]:
    """``(number, line)`` for each line of a record file, decoded; ``None`` for a line
    longer than ``settings.max_file_bytes``, which is skipped without being held.

    The start decides how: a UTF-16/32 byte order mark reads the file as that
    encoding; NUL bytes or a mass of control characters in the first 64 KB make the
    whole file :class:`Unreadable` (binary, not records).
    """
    head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES] if hasattr(stream, "peek") else b""
    for bom, encoding in BOMS:
        if head.startswith(bom):
            if encoding == "utf-8-sig":
                stream.read(len(bom))
                break
            text = io.TextIOWrapper(stream, encoding=encoding, newline="")
            try:
                yield from _text_lines(text, settings.max_file_bytes, encoding)
            finally:
                text.detach()  # the caller's stream stays open
            return
    else:
        if b"\x00" in head:
            raise Unreadable("binary file (contains NUL bytes)")
    cut = head.rfind(b"\n")  # whole lines only: no character cut in two
    refuse_binary(decode_line(head[:cut + 1] if cut > 0 else head, settings))
    limit = settings.max_file_bytes
    number = 0
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while True:  # the rest of the line, a step at a time
                rest = stream.readline(_SKIP_STEP)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
            continue
        yield number, decode_line(raw, settings)


def _text_lines(text: io.TextIOWrapper, limit: int, encoding: str):
    number = 0
    try:
        while True:
            line = text.readline(limit + 1)
            if not line:
                return
            number += 1
            if len(line) > limit and not line.endswith("\n"):
                while True:
                    rest = text.readline(_SKIP_STEP)
                    if not rest or rest.endswith("\n"):
                        break
                yield number, None
                continue
            yield number, line
    except UnicodeDecodeError:
        raise Unreadable(f"not valid {encoding.upper()} despite its byte order mark")
