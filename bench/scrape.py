"""Scrape bench: domains/minute against a slow local site, and extraction accuracy on the corpus.

    .venv/bin/python bench/scrape.py                   # 1,000 domains (takes a few minutes)
    .venv/bin/python bench/scrape.py --domains 200     # smaller run

Throughput: a separate server process on 127.0.0.1 answers every request after 200 ms; every
domain ``company-N.com`` has robots.txt and 5 HTML pages (corpus pages with a nav bar); the
scraper uses a 1 s per-domain delay shared through an embedded Valkey, 5 pages per domain and
a 2-process extraction pool. Accuracy: JSON-LD exact match (extruct samples), main-text F1
(trafilatura segments and article-extraction-benchmark shingles) and contact recall
(derived/contact-hints.json). Prints a table and writes bench/results/scrape.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import re
import sys
import tempfile
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "tests" / "data" / "scrape"
NAV = ('<nav><a href="/contact">Contact</a> <a href="/about">About us</a> '
       '<a href="/impressum">Impressum</a> <a href="/legal">Legal</a></nav>')


def _site_pages() -> list[bytes]:
    files = sorted((CORPUS / "trafilatura").glob("*.html"))
    files += sorted((CORPUS / "aeb").glob("*.html"))
    pages = []
    for f in files:
        html = f.read_text(encoding="utf-8", errors="replace")
        html = re.sub(r"<base\b[^>]*>", "", html, flags=re.I)  # keep links on the test host
        html = re.sub(r"(<body[^>]*>)", r"\1" + NAV, html, count=1, flags=re.I)
        pages.append(html.encode("utf-8"))
    return pages


def serve(port_queue: mp.Queue, latency_s: float) -> None:
    pages = _site_pages()
    paths = {"/": 0, "/contact": 1, "/about": 2, "/impressum": 3, "/legal": 4}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            time.sleep(latency_s)
            host = (self.headers.get("Host") or "x").split(":")[0]
            number = int(re.sub(r"\D", "", host) or 0)
            if self.path == "/robots.txt":
                body, ctype = b"User-agent: *\nDisallow: /private\n", "text/plain"
            elif self.path in paths:
                body = pages[(number + paths[self.path]) % len(pages)]
                ctype = "text/html; charset=utf-8"
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.request_queue_size = 512
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


async def throughput(n: int, concurrency: int, workers: int, port: int, redis_url: str) -> dict:
    import redis.asyncio as aioredis

    from actors.scrape.crawl import ScrapeOptions, make_extractor, scrape_many
    from actors.scrape.pool import ProcessPool
    from actors.scrape.ratelimit import RedisRateLimiter

    async def resolver(host: str, p: int) -> list[tuple[str, int]]:
        return [("127.0.0.1", port)]

    options = ScrapeOptions(schemes=("http",), allow_loopback=True, per_domain_delay_s=1.0,
                            max_pages=5, concurrency=concurrency)
    client = aioredis.from_url(redis_url)
    async with ProcessPool(size=workers) as pool:
        extractor = make_extractor(pool, options.extract_timeout_s)
        started = time.monotonic()
        results = await scrape_many([f"company-{i}.com" for i in range(n)], options,
                                    limiter=RedisRateLimiter(client), extractor=extractor,
                                    resolver=resolver)
        elapsed = time.monotonic() - started
    await client.aclose()
    outcomes = Counter(r.outcome.value for r in results)
    pages = sum(r.pages_fetched for r in results)
    return {"domains": n, "concurrency": concurrency, "extract_workers": workers,
            "elapsed_s": round(elapsed, 1), "domains_per_minute": round(n / elapsed * 60, 1),
            "pages": pages, "outcomes": dict(outcomes),
            "with_email": sum(1 for r in results if r.record and r.record.emails)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=96)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()

    from scrape_accuracy import accuracy  # sibling module in bench/

    report: dict = {"accuracy": accuracy()}
    if not args.skip_throughput:
        from pools.embedded import EmbeddedValkey

        ports: mp.Queue = mp.get_context("spawn").Queue()
        server = mp.get_context("spawn").Process(target=serve, args=(ports, args.latency),
                                                 daemon=True)
        server.start()
        valkey = EmbeddedValkey(Path(tempfile.mkdtemp()))
        try:
            url = valkey.start()
            report["throughput"] = asyncio.run(throughput(
                args.domains, args.concurrency, args.workers, ports.get(timeout=30), url))
        finally:
            valkey.stop()
            server.kill()
    _print(report)
    out = ROOT / "bench" / "results" / "scrape.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


def _print(report: dict) -> None:
    rows = [(k, v) for k, v in report["accuracy"].items()]
    rows += [(k, v) for k, v in report.get("throughput", {}).items()]
    width = max(len(k) for k, _ in rows)
    print(f"{'metric'.ljust(width)} | value")
    print(f"{'-' * width}-|------")
    for key, value in rows:
        print(f"{key.ljust(width)} | {value}")


if __name__ == "__main__":
    main()
