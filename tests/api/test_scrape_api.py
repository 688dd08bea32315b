"""Scraping through the real path: HTTP → a batch of child jobs → a scrape worker → local sites."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "actors" / "scrape"))
from scrape_sites import SiteServer  # noqa: E402


@pytest.fixture(scope="module")
def sites():
    server = SiteServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def scrape_stack(redis_url, tmp_path_factory, sites):
    from stack_support import Stack, scrape_env

    s = Stack(redis_url, tmp_path_factory.mktemp("scrape"),
              **scrape_env(sites.port, sites.hosts()),
              REPERTORY_SCRAPE__FETCH_DEADLINE_S="3",
              REPERTORY_SCRAPE__READ_TIMEOUT_S="2",
              REPERTORY_SCRAPE__MIN_BACKOFF_MS="200",
              REPERTORY_SCRAPE__MAX_RETRIES="1")
    try:
        s.start_api()
        s.start_pool("scrape", processes=1, threads=8)
        yield s
    finally:
        s.close()


def test_a_batch_scrapes_each_domain_and_its_counts_add_up(scrape_stack, sites):
    domains = ["https://acme-widgets.com/about", "ACME-Widgets.com.", "robots-404.com",
               "robots-deny.com", "forbidden-site.com", "robots-500.com"]
    accepted = scrape_stack.submit("/v1/scrape", {"domains": domains})
    batch = scrape_stack.wait_status(accepted["job_id"], {"succeeded", "failed"}, timeout=120)
    children = batch["children"]
    assert children["total"] == 5, "the two acme spellings collapse into one"
    assert children["done"] == 5
    assert children["completed"] == 2  # acme-widgets.com and robots-404.com
    assert children["blocked"] == 2  # robots disallow-all and a 403 home page
    assert children["dead"] == 1  # robots.txt 5xx: nothing fetched, retried, then dead
    assert children["completed"] + children["failed"] + children["dead"] == children["total"]
    assert len(children["ids"]) == 5

    result = scrape_stack.http.get(f"/v1/jobs/{accepted['job_id']}/result").json()["result"]
    by_domain = {r["summary"]["domain"]: r for r in result}
    assert by_domain["robots-deny.com"]["error"]["type"] == "scrape_blocked"
    assert by_domain["robots-500.com"]["status"] == "dead"
    acme = by_domain["acme-widgets.com"]["result"]["record"]
    assert acme["emails"] and all(e["source"].startswith("http://acme-widgets.com")
                                  for e in acme["emails"])
    fetched = sites.paths("robots-500.com")
    assert fetched == ["/robots.txt"] * len(fetched), "robots 5xx: nothing but robots.txt"


def test_invalid_domains_are_a_422_naming_each_bad_entry(scrape_stack):
    response = scrape_stack.http.post("/v1/scrape", json={
        "domains": ["acme-widgets.com", "not a domain", "127.0.0.1", "http://"]})
    assert response.status_code == 422
    body = response.json()
    assert [b["input"] for b in body["invalid"]] == ["not a domain", "127.0.0.1", "http://"]
    assert "'not a domain'" in body["error"]


def test_a_recent_record_is_reused_unless_refresh_is_asked(scrape_stack, sites):
    first = scrape_stack.submit("/v1/scrape", {"domains": ["robots-404.com"]})
    scrape_stack.wait_status(first["job_id"], "succeeded", timeout=60)
    before = len(sites.paths("robots-404.com"))
    again = scrape_stack.submit("/v1/scrape", {"domains": ["robots-404.com"]})
    scrape_stack.wait_status(again["job_id"], "succeeded", timeout=60)
    (child,) = scrape_stack.http.get(f"/v1/jobs/{again['job_id']}/result").json()["result"]
    assert child["result"]["cached"] is True
    assert len(sites.paths("robots-404.com")) == before
    fresh = scrape_stack.submit("/v1/scrape", {"domains": ["robots-404.com"], "refresh": True})
    scrape_stack.wait_status(fresh["job_id"], "succeeded", timeout=60)
    assert len(sites.paths("robots-404.com")) > before


def test_repertory_scrape_reads_a_file_of_domains_and_prints_a_table(scrape_stack, tmp_path):
    import subprocess

    listing = tmp_path / "domains.txt"
    listing.write_text("# our suppliers\nacme-widgets.com\nrobots-deny.com\n")
    done = subprocess.run(
        [sys.executable, "-m", "repertory_cli.main", "scrape", str(listing),
         "--api", str(scrape_stack.http.base_url)],
        capture_output=True, text=True, timeout=120, env={**scrape_stack.env, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert "acme-widgets.com" in done.stdout and "scrape_blocked" in done.stdout
