"""Headless Debian Chromium driven by Selenium with the system chromedriver (no download): what the
page tests of serve and annotate open. `require_chromium()` at module level skips the module where
selenium or the browser is missing."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


def require_chromium() -> Any:
    """selenium.webdriver, or a module-level skip naming what to install."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the test extra)")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(f"no system Chromium ({CHROMIUM}, {CHROMEDRIVER}): apt-get install chromium chromium-driver",
                    allow_module_level=True)
    return webdriver


def open_chromium(profile: Path, window_size: str) -> Any:
    """A headless browser with a fresh profile in `profile` (no state from other runs)."""
    webdriver = require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--window-size={window_size}", f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    return driver


@contextlib.contextmanager
def chromium_session(profile: Path, window_size: str) -> Iterator[Any]:
    """`open_chromium` for the length of a test: the browser quit and its profile removed after."""
    driver = open_chromium(profile, window_size)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
