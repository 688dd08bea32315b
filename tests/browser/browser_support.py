"""The browser tests' helpers: Debian's chromium, and a tab that records what went wrong.

Playwright never downloads a browser here: it launches ``chromium`` from the PATH (``make
test`` installs it with apt-get when missing) through ``executable_path``.
"""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlsplit

import pytest

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")
    if not found:
        pytest.fail("no chromium on PATH: `make test` installs it (apt-get install chromium)")
    return found


class Tab:
    """A page that records console errors, uncaught exceptions, failed requests and every
    request that tried to leave the machine (those are aborted)."""

    def __init__(self, browser: object, base_url: str, viewport: dict[str, int]) -> None:
        self.context = browser.new_context(base_url=base_url, viewport=viewport)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.left_the_machine: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"console: {m.text} ({m.location.get('url')})"))
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("dialog", lambda d: d.accept())

    def _route(self, route: object) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
            route.continue_()
        else:
            self.left_the_machine.append(route.request.url)
            route.abort("internetdisconnected")

    def close(self) -> None:
        self.context.close()
