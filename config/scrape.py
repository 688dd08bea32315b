"""Settings of the scrape pool (queue ``scrape``): politeness, limits and safety switches."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ScrapeSettings(BaseModel):
    """How the scrape pool fetches and extracts. Mounted at ``settings.scrape``."""

    user_agent: str = Field(
        default="repertory-scraper/0.1 (+https://github.com/repertory/repertory)",
        description="User-Agent header sent with every request and matched against robots.txt.",
    )
    robots_agent: str = Field(
        default="repertory-scraper",
        description="Product token used to pick the robots.txt group (RFC 9309 section 2.2.1).",
    )
    schemes: tuple[str, ...] = Field(
        default=("https", "http"),
        description="Schemes tried in order for a domain's home page (fallback on connect error).",
    )
    connect_timeout_s: float = Field(default=5.0, description="TCP/TLS connect timeout per fetch.")
    read_timeout_s: float = Field(default=10.0, description="Timeout between two received chunks.")
    write_timeout_s: float = Field(default=5.0, description="Timeout for sending the request.")
    pool_timeout_s: float = Field(default=5.0, description="Wait for a free pooled connection.")
    fetch_deadline_s: float = Field(
        default=20.0, description="Total deadline of one fetch, all redirect hops included."
    )
    domain_deadline_s: float = Field(
        default=180.0, description="Total deadline for scraping one domain (all pages)."
    )
    max_bytes: int = Field(
        default=3_000_000, description="Cap on decoded (decompressed) body bytes per response."
    )
    robots_max_bytes: int = Field(
        default=512_000, description="Cap on robots.txt bytes (RFC 9309 asks for >= 500 KiB)."
    )
    max_redirects: int = Field(default=5, description="Redirect hops followed per fetch.")
    max_pages_per_domain: int = Field(
        default=5, ge=1, le=20, description="Pages fetched per domain, home page included."
    )
    per_domain_delay_s: float = Field(
        default=1.0, ge=0, description="Minimum spacing of requests to one registrable domain."
    )
    crawl_delay_cap_s: float = Field(
        default=10.0, ge=0, description="Largest robots.txt Crawl-delay honoured (seconds)."
    )
    concurrency: int = Field(
        default=64, ge=1, description="Domains scraped at once per process (asyncio tasks)."
    )
    extract_workers: int = Field(
        default=2, ge=1, description="Extraction processes per scrape worker process."
    )
    extract_timeout_s: float = Field(
        default=10.0, description="Hard limit per page extraction; the process is killed past it."
    )
    allow_loopback: bool = Field(
        default=False,
        description="Allow 127.0.0.0/8 and ::1 targets. Tests only; never in production.",
    )
    static_hosts: dict[str, str] = Field(
        default_factory=dict,
        description="Fixed answers for name resolution, like curl --resolve: "
        "{'acme.com': '203.0.113.7:443'}. Answers are still checked against the address rules.",
    )
    max_domains_per_request: int = Field(
        default=10_000, ge=1, description="Most domains one POST /v1/scrape may submit."
    )
    max_retries: int = Field(default=2, ge=0, description="Retries of unreachable/timeout.")
    min_backoff_ms: int = Field(default=5_000, ge=1, description="First retry delay.")
    cache_days: int = Field(
        default=30, ge=0, description="A domain's record is reused for this long unless a "
        "request says refresh (0: never reuse)."
    )
    max_images_per_domain: int = Field(
        default=10, ge=0, description="With index_images: most images sent to the GPU pool."
    )
