"""Fixtures of the scrape tests: a real HTTP server on 127.0.0.1 and a resolver onto it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from scrape_sites import SiteServer  # noqa: E402

from actors.scrape.crawl import ScrapeOptions  # noqa: E402
from actors.scrape.fetch import FetchLimits  # noqa: E402
from actors.scrape.transport import Resolver, static_resolver  # noqa: E402


@pytest.fixture(scope="session")
def site_server() -> Iterator[SiteServer]:
    server = SiteServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def site(site_server: SiteServer) -> SiteServer:
    site_server.log.clear()
    return site_server


@pytest.fixture()
def resolver(site_server: SiteServer) -> Resolver:
    """Every test host → the local server's port; one name answers a CGNAT address."""
    table = {host: [("127.0.0.1", site_server.port)] for host in site_server.hosts()}
    table["metadata-internal.com"] = [("100.64.0.1", 80)]
    return static_resolver(table)


@pytest.fixture()
def options() -> ScrapeOptions:
    return ScrapeOptions(
        schemes=("http",), allow_loopback=True, per_domain_delay_s=0.0,
        limits=FetchLimits(connect_s=1, read_s=2, deadline_s=2, max_bytes=1_000_000),
        domain_deadline_s=10, max_pages=5,
    )
