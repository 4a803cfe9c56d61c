"""Fixtures of the browser tests in tests/web: headless Chromium and axe-core.

The server and index fixtures (``web_server``, ``web_index_dir``, ``web_output``)
are the shared web ones; this file adds only the browser and axe-core.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--hide-scrollbars")
# axe-core from npm, installed by .ci/run with `npm install --prefix tests/web`.
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """A headless Chromium (the system's) driven by selenium, one per test module."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for program in (CHROMIUM, CHROMEDRIVER):
        if not program.exists():
            pytest.fail(f"{program} is missing: install the Debian packages chromium and "
                        f"chromium-driver", pytrace=False)
    folder = tmp_path_factory.mktemp("chromium")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={folder / 'profile'}")
    options.add_argument("--window-size=1280,900")
    options.add_argument("--lang=de-DE")
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(folder / "driver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(120)
    yield driver
    driver.quit()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The text of axe.min.js; the test fails (never skips) when npm has not installed it."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: install it with "
                    f"`npm install --prefix tests/web` (as .ci/run does)", pytrace=False)
    return AXE.read_text(encoding="utf-8")
