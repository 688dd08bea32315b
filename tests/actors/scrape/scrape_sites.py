"""Small synthetic sites (and the copied corpus) served by a real HTTP server on 127.0.0.1.

Every fake host resolves to the server through a static resolver; the server routes on the
Host header. Hosts use real public suffixes (``.com``) so tldextract treats them as domains.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "data" / "scrape"
CORPUS_HOST = "corpus-pages.com"


def _image(kind: str, color: tuple[int, int, int]) -> tuple[int, dict[str, str], bytes]:
    """A small real image, for the index_images path."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, kind.upper())
    return 200, {"Content-Type": f"image/{kind}"}, out.getvalue()


def cf_encode(email: str, key: int = 0x42) -> str:
    return f"{key:02x}" + "".join(f"{ord(c) ^ key:02x}" for c in email)


def entities(text: str) -> str:
    return "".join(f"&#{ord(c)};" for c in text)


ACME_HOME = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Acme Widgets – precision widgets</title>
<meta name="description" content="Acme Widgets makes precision widgets in Berlin.">
<meta property="og:site_name" content="Acme Widgets">
<meta property="og:image" content="/img/hero.jpg">
<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
 {"@type": "Organization", "name": "Acme Widgets GmbH", "logo": "/img/logo.png",
  "sameAs": ["https://www.linkedin.com/company/acme-widgets"]},
 {"@type": "WebSite", "name": "Acme"}]}</script>
</head><body><header><img class="site-logo" src="/img/logo-header.svg" alt="Acme"></header>
<nav><a href="/contact">Contact</a> <a href="/about-us">About us</a>
<a href="/impressum">Impressum</a> <a href="/private/legal">Legal notice</a>
<a href="/brochure.pdf">Contact sheet (PDF)</a> <a href="https://other-company.com/contact">Partner</a>
<a href="https://www.facebook.com/acmewidgets">Facebook</a>
<a href="https://twitter.com/intent/tweet?text=hi">Share</a></nav>
<main><h1>Precision widgets since 1999</h1><p>We build widgets for industry.</p></main>
</body></html>"""

ACME_CONTACT = f"""<!doctype html><html lang="en"><head><title>Contact – Acme</title></head>
<body><h1>Contact</h1>
<p>Sales: sales [at] acme-widgets (dot) com</p>
<p>Support: <a href="mailto:{entities('support@acme-widgets.com')}">write to us</a></p>
<p>Press: <a href="/cdn-cgi/l/email-protection" class="__cf_email__"
 data-cfemail="{cf_encode('press@acme-widgets.com')}">[email&#160;protected]</a></p>
<p>Jobs: <a href="/cdn-cgi/l/email-protection#{cf_encode('jobs@acme-widgets.com', 0x17)}"
 >mail</a></p>
<p>Call <a href="tel:+49-30-22732152">+49 30 22732152</a> or +44 20 7946 0958.</p>
</body></html>"""

ACME_ABOUT = """<!doctype html><html><head><title>About – Acme</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Organization",
 "name": "Acme Widgets GmbH", oops this is broken </script>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "LocalBusiness",
 "name": "Acme Widgets GmbH", "legalName": "Acme Widgets Gesellschaft mbH",
 "telephone": "+49 89 38 38 0", "email": "mailto:info@acme-widgets.com",
 "address": {"@type": "PostalAddress", "streetAddress": "Unter den Linden 1",
  "postalCode": "10117", "addressLocality": "Berlin", "addressCountry": "DE"}}</script>
</head><body><p>We are a family business.</p></body></html>"""

IMPRINT = """<html><head><title>Impressum</title></head><body><address>Acme Widgets GmbH,
Unter den Linden 1, 10117 Berlin</address></body></html>"""

MALFORMED_HOME = """<html><head><title>Privacy First Ltd</title></head><body>
<a href="http://[ccpa-preferences]">Do Not Sell My Personal Information</a>
<a href="http://shop:port/">Shop</a> <a href="/contact">Contact</a> <a href="/about">About us</a>
</body></html>"""
CRASH_HOME = """<html><head><title>Crash Test Inc</title></head><body>
<a href="/contact">Contact</a> <a href="/about/crash">About us</a></body></html>"""

SIMPLE_HOME = """<html><head><title>{title}</title></head><body><h1>{title}</h1>
<a href="/contact">Contact</a></body></html>"""

Route = bytes | str | Callable[[BaseHTTPRequestHandler], None] | tuple[int, dict[str, str], bytes]


def redirect(location: str, status: int = 302) -> tuple[int, dict[str, str], bytes]:
    return (status, {"Location": location}, b"")


def slow_drip(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", "400")
    handler.end_headers()
    for _ in range(400):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.1)


def oversize(handler: BaseHTTPRequestHandler) -> None:
    body = b"<html><body>" + b"x" * 2_000_000 + b"</body></html>"
    _send(handler, 200, {"Content-Type": "text/html"}, body, chunked=True)


BOMB = gzip.compress(b"<html><body>" + b"\0" * 20_000_000, compresslevel=9)


def gzip_bomb(handler: BaseHTTPRequestHandler) -> None:
    _send(handler, 200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, BOMB)


def _send(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes,
          *, chunked: bool = False) -> None:
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    if chunked:
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for i in range(0, len(body), 65536):
            part = body[i:i + 65536]
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        handler.wfile.write(b"0\r\n\r\n")
        return
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


SITES: dict[str, dict[str, Route]] = {
    "acme-widgets.com": {
        "/robots.txt": "User-agent: *\nDisallow: /private\n",
        "/": ACME_HOME, "/contact": ACME_CONTACT, "/about-us": ACME_ABOUT, "/impressum": IMPRINT,
        "/private/legal": "<html><body>must never be fetched</body></html>",
        "/img/logo.png": _image("png", (220, 40, 40)),
        "/img/hero.jpg": _image("jpeg", (40, 40, 220)),
    },
    "robots-500.com": {"/robots.txt": (503, {}, b"busy"), "/": SIMPLE_HOME.format(title="R5")},
    "robots-404.com": {"/": SIMPLE_HOME.format(title="Robots 404 Inc"),
                       "/contact": "<html><body>hello@robots-404.com</body></html>"},
    "robots-deny.com": {"/robots.txt": "User-agent: *\nDisallow: /\n", "/": SIMPLE_HOME},
    "robots-delay.com": {"/robots.txt": "User-agent: *\nCrawl-delay: 0.4\n",
                         "/": SIMPLE_HOME.format(title="Delay"),
                         "/contact": "<html><body>x</body></html>"},
    "redirect-internal.com": {
        "/robots.txt": "", "/": redirect("http://10.0.0.7/"),
        "/meta": redirect("http://169.254.169.254/latest/meta-data/"),
        "/cgnat-host": redirect("http://metadata-internal.com/"),
        "/decimal": redirect("http://167772161/"), "/octal": redirect("http://012.0.0.1/"),
        "/hex": redirect("http://0xa9.0xfe.0xa9.0xfe/"),
        "/mapped": redirect("http://[::ffff:10.0.0.1]/"),
        "/nat64": redirect("http://[64:ff9b::a00:1]/"),
        "/file": redirect("file:///etc/passwd"),
        "/chain": redirect("/chain2"), "/chain2": redirect("http://acme-widgets.com/contact"),
    },
    "malformed-links.com": {
        "/robots.txt": "", "/": MALFORMED_HOME,
        "/contact": "<html><body>Write to hello@malformed-links.com</body></html>",
        "/about": '<html><body><a href="http://[x">team</a> Tel.: +44 20 7946 0958</body></html>',
    },
    "dying-subpage.com": {
        "/robots.txt": "", "/": CRASH_HOME,
        "/contact": "<html><body>hello@dying-subpage.com</body></html>",
        "/about/crash": "<html><body>this page kills its extraction process</body></html>",
    },
    "crash-home.com": {"/robots.txt": "", "/crash": "x", "/": (
        302, {"Location": "/crash"}, b"")},
    "slow-drip.com": {"/robots.txt": "", "/": slow_drip},
    "big-page.com": {"/robots.txt": "", "/": oversize},
    "gzip-bomb.com": {"/robots.txt": "", "/": gzip_bomb},
    "forbidden-site.com": {"/robots.txt": "", "/": (403, {}, b"no")},
    "latin1-site.com": {"/robots.txt": "", "/": (
        200, {"Content-Type": "text/html; charset=iso-8859-1"},
        "<html><body>Größe</body></html>".encode("latin-1"))},
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def handle(self) -> None:
        """A client may drop its connection at any point (the fetcher resets one whose body
        passes its cap, then the next keep-alive read fails here): that ends the connection,
        it is not a server error to print."""
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        host = (self.headers.get("Host") or "").split(":")[0]
        path = self.path.split("?", 1)[0]
        self.server.log.append((host, path))  # type: ignore[attr-defined]
        route = self._route(host, path)
        if route is None:
            _send(self, 404, {"Content-Type": "text/plain"}, b"not found")
        elif callable(route):
            route(self)
        elif isinstance(route, tuple):
            _send(self, route[0], route[1], route[2])
        else:
            body = route.encode() if isinstance(route, str) else route
            ctype = "text/plain" if path.endswith(".txt") else "text/html; charset=utf-8"
            _send(self, 200, {"Content-Type": ctype}, body)

    def _route(self, host: str, path: str) -> Route | None:
        if host == CORPUS_HOST:
            file = (CORPUS / path.lstrip("/")).resolve()
            if file.is_file() and CORPUS in file.parents:
                return (200, {"Content-Type": "text/html"}, file.read_bytes())
            return None
        return SITES.get(host, {}).get(path)


class SiteServer:
    """A threaded HTTP server on 127.0.0.1 with a request log of (host, path)."""

    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.log = []  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def log(self) -> list[tuple[str, str]]:
        return self.httpd.log  # type: ignore[attr-defined]

    def paths(self, host: str) -> list[str]:
        return [p for h, p in self.log if h == host]

    def hosts(self) -> list[str]:
        return [*SITES, CORPUS_HOST]

    def start(self) -> SiteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def crashing_extract(html: str, url: str) -> object:
    """``extract_page``, except that a URL containing ``/crash`` kills the process running it
    (like a segfault or an OOM kill in the extraction pool)."""
    import os

    from actors.scrape.extract import extract_page

    if "/crash" in url:
        os._exit(3)
    return extract_page(html, url, main_text=False)
