"""The scripts of ``benchmarks/`` as modules, for tests of the measurements themselves
(``benchmarks/`` is a folder of scripts, not a package)."""

from __future__ import annotations

import importlib.util
import sys

from .corpora import REPO


def benchmark(name: str):
    """``benchmarks/NAME.py``, imported once per test run."""
    key = f"benchmarks.{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, REPO / "benchmarks" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[key]
            raise
    return sys.modules[key]
