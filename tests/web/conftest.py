"""Fixtures of the web tests: an index of real news, the real server on it, and a folder for
screenshots.

``web_index_dir`` is the sample corpus plus two parts of fang-covid-real (Jan–Mar
and Nov–Dec 2020, three sources), built once; ``web_server`` serves it for
tests that only read; ``web_start_server`` starts servers of a test's own
(stopped at its end); ``web_output`` keeps a test's screenshots in
``test-output/``; ``chromium`` is a headless Chromium driven by selenium and
``axe_source`` the axe-core script the accessibility tests inject.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from support.corpora import REPO, SAMPLE_CORPUS, shared_file
from support.server import Server

WEB_OUTPUT = REPO / "test-output"
WEB_FANG_PARTS = ("part-000.jsonl.gz", "part-020.jsonl.gz")


@pytest.fixture(scope="session")
def web_index_dir(tmp_path_factory):
    """An index of the sample corpus plus two parts of fang-covid-real, built once per run."""
    from search import Settings, index_paths

    parts = [shared_file("fang-covid-real", name) for name in WEB_FANG_PARTS]
    index_dir = tmp_path_factory.mktemp("web-index")
    report = index_paths([SAMPLE_CORPUS, *parts], Settings(index_dir=index_dir))
    assert report.documents > 2000, report.to_dict()
    return index_dir


@pytest.fixture
def web_start_server(tmp_path):
    """Start ``newssearch serve`` with extra arguments; every server is stopped at teardown."""
    servers: list[Server] = []

    def start(*args, env=None, port=None) -> Server:
        server = Server(args, tmp_path / f"server-{len(servers)}.log", env=env, port=port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def web_server(web_index_dir, tmp_path_factory):
    """One server on the session index, for tests that only read."""
    server = Server(["--index", web_index_dir],
                    tmp_path_factory.mktemp("web-server") / "server.log")
    yield server
    server.stop()


@pytest.fixture
def web_output(tmp_path, request):
    """Where a test leaves files to look at: its tmp_path, copied to test-output/ at the end."""
    yield tmp_path
    target = WEB_OUTPUT / re.sub(r"[^\w.-]+", "_", request.node.name)
    target.mkdir(parents=True, exist_ok=True)
    for path in tmp_path.glob("*.png"):
        shutil.copy2(path, target / path.name)


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
