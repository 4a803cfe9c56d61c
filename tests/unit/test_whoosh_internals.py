"""The module that reads and writes whoosh-reloaded's private structures refuses any
version but the one it knows, and says which one it needs.

The refusal is checked for real: a Python process whose path finds another
whoosh-reloaded release first (an installed distribution's metadata, as pip
writes it) fails to import the Whoosh backend with that message.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest

from search.backends.whoosh import internals
from support.corpora import REPO


def test_the_required_version_is_the_pin_of_the_package():
    pins = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pinned = [d for d in pins["project"]["dependencies"] if d.startswith("whoosh-reloaded")]
    assert pinned == [f"whoosh-reloaded=={internals.REQUIRED_VERSION}"]
    assert internals.installed_version() == internals.REQUIRED_VERSION


def test_another_version_is_refused_with_what_is_needed():
    internals.check_version(internals.REQUIRED_VERSION)
    with pytest.raises(internals.UnsupportedWhoosh) as found:
        internals.check_version("2.7.6")
    message = str(found.value)
    assert "whoosh-reloaded 2.7.6 is installed" in message
    assert "needs whoosh-reloaded 2.7.5" in message
    assert "pip install 'whoosh-reloaded==2.7.5'" in message
    with pytest.raises(internals.UnsupportedWhoosh, match="whoosh-reloaded is not installed"):
        internals.check_version(None)


def test_importing_the_backend_with_another_release_installed_fails_clearly(tmp_path):
    site = tmp_path / "site"
    info = site / "whoosh_reloaded-2.8.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: whoosh-reloaded\n"
                                   "Version: 2.8.0\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(REPO)]))
    done = subprocess.run([sys.executable, "-c", "import search.backends.whoosh.backend"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "UnsupportedWhoosh" in done.stderr
    assert "whoosh-reloaded 2.8.0 is installed" in done.stderr
    assert "pip install 'whoosh-reloaded==2.7.5'" in done.stderr
    # the same process without the other release imports it
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-c", "import search.backends.whoosh.backend"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
