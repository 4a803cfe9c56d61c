"""The fitted weights of the re-ranking features, shipped as ``weights.json`` beside this module.

``benchmarks/fit_ranking.py`` writes the file; :mod:`search.settings` reads it
for the defaults of the weight settings (this module imports nothing of the
engine, so the settings can).
"""

from __future__ import annotations

import json
from pathlib import Path

NAMES = ("exact", "window", "pairs", "title", "written")
WEIGHTS_FILE = Path(__file__).with_name("weights.json")


def shipped_weights() -> dict[str, float]:
    """The fitted weights, by feature name (0 where missing)."""
    try:
        found = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8")).get("weights", {})
    except (OSError, ValueError):
        found = {}
    return {name: float(found.get(name, 0.0)) for name in NAMES}
