"""Language of an article: langdetect, seeded so the answer never changes."""

from __future__ import annotations

import re
import threading

from langdetect import DetectorFactory, LangDetectException, detect

DetectorFactory.seed = 0
_lock = threading.Lock()
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


def normalise_lang(value) -> str | None:
    """A two-letter code from a record's own language field, or ``None``."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def detect_language(text: str, *, sample_chars: int = 1000, default: str = "de") -> str:
    """Detect the language on a bounded prefix of ``text``.

    Texts with too few letters to judge get ``default``.
    """
    sample = text[:sample_chars]
    if len(_LETTERS.findall(sample[:200])) < 12:
        return default
    try:
        with _lock:  # langdetect's seeded generator is shared state
            return normalise_lang(detect(sample)) or default
    except LangDetectException:
        return default
