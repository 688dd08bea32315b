"""Screenshots of every dashboard view for docs/img, from a real stack under a small load.

    .venv/bin/python tests/browser/screenshots.py [--minutes 3] [--out docs/img]

Starts an embedded Valkey, the API and a cpu pool, submits a mix of real jobs for a few
minutes (quick ones, sleeps, flaky ones that retry, failing ones that die, roster solves, a
webhook that fails once, a burst at each minute so the queues back up), then photographs each
view at 1280 px and at 390 px with Debian's chromium. Not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS / "browser"), str(TESTS)]

from browser_support import DESKTOP, PHONE, Tab, chromium_path  # noqa: E402
from hook_receiver import HookReceiver  # noqa: E402
from stack_support import Stack  # noqa: E402

from pools.embedded import EmbeddedValkey  # noqa: E402

INSTANCE = (TESTS / "data" / "shift_scheduling" / "Instance{}.txt")


def receiver() -> str:
    """A webhook receiver that answers 500 to every other POST (it lives as long as the
    process)."""
    return HookReceiver(lambda n: 500 if n % 2 == 0 else 204).url


def solve(stack: Stack, n: int, limit_s: int) -> str:
    response = stack.http.post("/v1/solve", content=Path(str(INSTANCE).format(n)).read_bytes(),
                               params={"time_limit_s": limit_s},
                               headers={"content-type": "text/plain"})
    return response.json()["job_id"]


def load(stack: Stack, minutes: float, hook: str) -> dict[str, str]:
    """Submit the mix; return ids worth a picture."""
    keep: dict[str, str] = {}
    end = time.time() + minutes * 60
    tick = 0
    while time.time() < end:
        if tick % 20 == 0:  # about once a minute: a burst that backs the queue up
            for _ in range(30):
                stack.submit("/v1/diag", {"mode": "sleep", "seconds": 0.5})
        for _ in range(3):
            stack.submit("/v1/diag", {"mode": "ok"})
        stack.submit("/v1/diag", {"mode": "sleep", "seconds": 1.5})
        if tick % 5 == 1:
            keep["flaky"] = stack.submit("/v1/diag", {"mode": "flaky", "failures": 2})["job_id"]
        if tick % 12 == 2:
            keep["dead"] = stack.submit("/v1/diag", {"mode": "fail"})["job_id"]
        if tick % 15 == 3:
            stack.submit("/v1/diag", {"mode": "bad"})
            keep["webhook"] = stack.submit("/v1/diag", {"mode": "ok",
                                                        "callback_url": hook})["job_id"]
        if tick % 20 == 4:
            keep["solve"] = solve(stack, 1, 30)
        tick += 1
        time.sleep(3)
    keep["running"] = solve(stack, 7, 120)
    stack.submit("/v1/diag", {"mode": "sleep", "seconds": 60})
    time.sleep(8)
    return keep


def photograph(base: str, out: Path, keep: dict[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    views = {"overview": "/dashboard", "jobs": "/dashboard/jobs",
             "job": f"/dashboard/jobs/{keep['solve']}",
             "job-running": f"/dashboard/jobs/{keep['running']}",
             "job-retried": f"/dashboard/jobs/{keep['flaky']}",
             "job-dead": f"/dashboard/jobs/{keep['dead']}",
             "job-webhook": f"/dashboard/jobs/{keep['webhook']}",
             "workers": "/dashboard/workers", "dead-letters": "/dashboard/dead/diag",
             "schedules": "/dashboard/schedules"}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            tab = Tab(browser, base, viewport)
            for name, path in views.items():
                tab.page.goto(path)
                tab.page.wait_for_load_state("networkidle")
                tab.page.screenshot(path=out / f"dashboard-{name}-{width}.png", full_page=True)
            tab.page.goto("/docs")
            tab.page.locator(".swagger-ui .opblock").first.wait_for()
            tab.page.screenshot(path=out / f"docs-swagger-offline-{width}.png")
            assert not tab.errors, tab.errors
            tab.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--out", type=Path, default=TESTS.parent / "docs" / "img")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="dashboard-shots-"))
    server = EmbeddedValkey(tmp / "valkey")
    stack = Stack(server.start(), tmp)
    try:
        stack.start_api()
        stack.start_pool("cpu", processes=1, threads=4)
        keep = load(stack, args.minutes, receiver())
        photograph(str(stack.http.base_url).rstrip("/"), args.out, keep)
        print(f"screenshots in {args.out}")
    finally:
        stack.close()
        server.stop()


if __name__ == "__main__":
    main()
