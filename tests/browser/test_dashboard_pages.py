"""The dashboard in a real browser against a real stack: pages, live updates, actions."""

from __future__ import annotations

import re

import pytest
from browser_support import DESKTOP, PHONE
from playwright.sync_api import expect

PAGES = {
    "overview": "/dashboard",
    "jobs": "/dashboard/jobs",
    "job": "/dashboard/jobs/{ok}",
    "job-dead": "/dashboard/jobs/{dead}",
    "workers": "/dashboard/workers",
    "dead-letters": "/dashboard/dead/diag",
    "schedules": "/dashboard/schedules",
}


@pytest.fixture(scope="module")
def base(stack) -> str:
    return str(stack.http.base_url).rstrip("/")


@pytest.fixture(scope="module")
def finished(stack) -> dict[str, str]:
    """A succeeded job and a dead one (with its dead letter), for the pages to show."""
    ok = stack.submit("/v1/diag", {"mode": "sleep", "seconds": 0.3})["job_id"]
    dead = stack.submit("/v1/diag", {"mode": "fail"})["job_id"]
    stack.wait_status(ok, "succeeded")
    stack.wait_status(dead, "dead", timeout=60)
    return {"ok": ok, "dead": dead}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_loads_without_console_errors_and_fits_the_screen(stack, base, finished, tabs,
                                                                     shots, viewport):
    tab = tabs(base, viewport)
    width = "desktop" if viewport is DESKTOP else "phone"
    for name, path in PAGES.items():
        response = tab.page.goto(path.format(**finished))
        assert response.status == 200, (name, response.status)
        tab.page.wait_for_load_state("networkidle")
        expect(tab.page.locator("main h1")).to_be_visible()
        overflow = tab.page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"{name} is {overflow} px wider than a {viewport['width']} px screen"
        tab.page.screenshot(path=shots / f"dashboard-{name}-{width}.png", full_page=True)
    assert tab.errors == []
    assert tab.left_the_machine == []


def test_a_submitted_job_moves_to_succeeded_on_its_page(stack, base, tabs):
    tab = tabs(base)
    job_id = stack.submit("/v1/diag", {"mode": "sleep", "seconds": 1.5})["job_id"]
    tab.page.goto(f"/dashboard/jobs/{job_id}")
    status = tab.page.locator("#job-status")
    expect(status).to_have_text("succeeded", timeout=30_000)  # the page refreshes itself
    (worker,) = stack.workers("cpu")
    timeline = tab.page.locator("#timeline")
    expect(timeline).to_contain_text(worker["host"])
    expect(timeline.locator("td", has_text=str(worker["pid"])).first).to_be_visible()
    expect(tab.page.locator("#progress")).to_contain_text("1.5")
    assert tab.errors == []


def test_a_dead_job_is_requeued_from_the_dead_letter_page_and_runs(stack, base, tabs):
    # Fails its first 4 runs (1 + 3 retries: dead), succeeds on the 5th.
    job_id = stack.submit("/v1/diag", {"mode": "flaky", "failures": 4})["job_id"]
    stack.wait_status(job_id, "dead", timeout=60)
    tab = tabs(base)
    tab.page.goto("/dashboard/dead/diag")
    letter = tab.page.locator(f"#letter-{job_id}")
    expect(letter).to_contain_text("diag transient failure on run 4")
    letter.get_by_role("button", name="Requeue").click()
    expect(tab.page.locator("#flash.ok")).to_contain_text("requeued: 1 message")
    expect(tab.page.locator(f"#letter-{job_id}")).to_have_count(0)
    done = stack.wait_status(job_id, "succeeded", timeout=60)
    assert done["attempts"] == 5
    tab.page.goto(f"/dashboard/jobs/{job_id}")
    expect(tab.page.locator("#job-status")).to_have_text("succeeded")
    expect(tab.page.locator("#timeline")).to_contain_text("requeue")
    assert tab.errors == []


def test_a_failing_action_shows_its_error(stack, base, tabs):
    job_id = stack.submit("/v1/diag", {"mode": "fail"})["job_id"]
    stack.wait_status(job_id, "dead", timeout=60)
    tab = tabs(base)
    tab.page.goto("/dashboard/dead/diag")
    letter = tab.page.locator(f"#letter-{job_id}")
    expect(letter).to_be_visible()
    # Someone else purges it while this page is open: the page's requeue now fails.
    purged = stack.http.post("/v1/queues/diag/dead/purge", json={"message_ids": [job_id]})
    assert purged.json() == {"purged": [job_id]}
    letter.get_by_role("button", name="Requeue").click()
    flash = tab.page.locator("#flash.error")
    expect(flash).to_contain_text("Requeue failed: 404")
    expect(flash).to_contain_text(f"no dead letter {job_id} in queue 'diag'")
    assert tab.page.locator("#flash").get_attribute("role") == "alert"


def test_the_api_docs_render_with_the_network_cut_off(stack, base, tabs, shots):
    tab = tabs(base)
    tab.page.goto("/docs")
    expect(tab.page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=30_000)
    expect(tab.page.locator(".swagger-ui .info .title")).to_contain_text("repertory")
    tab.page.get_by_text("/v1/jobs/{job_id}").first.click()  # an operation opens
    expect(tab.page.locator(".swagger-ui .opblock-body").first).to_be_visible()
    tab.page.screenshot(path=shots / "docs-swagger-offline.png")
    assert tab.left_the_machine == []
    assert tab.errors == []


#: ReDoc's sidebar credit always asks its CDN for a logo, and hides it when that fails
#: (redoc.standalone.js: ``onError``): the one request an air-gapped /redoc makes in vain.
REDOC_CREDIT_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_redoc_renders_with_the_network_cut_off(stack, base, tabs, shots):
    tab = tabs(base)
    tab.page.goto("/redoc")
    expect(tab.page.get_by_role("heading", name="repertory").first).to_be_visible(
        timeout=30_000)
    expect(tab.page.get_by_text("/v1/jobs/{job_id}").first).to_be_attached()
    tab.page.screenshot(path=shots / "docs-redoc-offline.png")
    assert set(tab.left_the_machine) <= {REDOC_CREDIT_LOGO}
    assert all("ERR_INTERNET_DISCONNECTED" in e for e in tab.errors), tab.errors


def test_a_schedule_runs_now_from_the_schedules_page(stack, base, tabs):
    tab = tabs(base)
    tab.page.goto("/dashboard/schedules")
    row = tab.page.locator("#schedule-cleanup")
    expect(row).to_contain_text("code")
    row.get_by_role("button", name="Run now").click()
    flash = tab.page.locator("#flash.ok")
    expect(flash).to_contain_text("Run now: run queued: job ")
    job_id = re.search(r"job ([0-9a-f]{32})", flash.inner_text()).group(1)
    assert stack.wait_status(job_id, "succeeded", timeout=60)["kind"] == "cleanup"
    expect(tab.page.locator("#schedule-cleanup a", has_text=job_id[:8])).to_be_visible()
    assert tab.errors == []
