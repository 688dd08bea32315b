"""A real browser for the dashboard's tests: Playwright driving Debian's Chromium.

No browser is ever downloaded: Playwright launches ``chromium`` from the PATH (``make test``
installs it with apt-get when missing) through ``executable_path``. Screenshots go to a temp
folder, or to ``$DASHBOARD_SCREENSHOTS`` (``docs/img`` to refresh the docs' pictures).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import DESKTOP, Tab, chromium_path


@pytest.fixture(scope="module")  # sync Playwright runs an event loop on the main thread:
def browser() -> Iterator[object]:  # closed with the module, not left to later tests
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path(),
                                     args=["--no-sandbox", "--disable-gpu"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def tabs(browser: object) -> Iterator[object]:
    opened: list[Tab] = []

    def open_tab(base_url: str, viewport: dict[str, int] = DESKTOP) -> Tab:
        tab = Tab(browser, base_url, viewport)
        opened.append(tab)
        return tab

    yield open_tab
    for tab in opened:
        tab.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("DASHBOARD_SCREENSHOTS")
    folder = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
