"""One polite, bounded HTTP fetch: manual redirects, decoded-size cap, charset decoding.

Redirects are followed hop by hop with ``follow_redirects=False`` so each hop goes back through
the guarded transport (address re-validated) and through the caller's checks. Bodies are
decompressed here, not by httpx, with ``max_length`` so a gzip bomb never inflates in memory
past the cap.
"""

from __future__ import annotations

import asyncio
import codecs
import re
import zlib
from collections.abc import Awaitable, Callable

import httpx
from pydantic import BaseModel, Field

from actors.scrape.netguard import AddressRefused
from actors.scrape.outcomes import Outcome, ScrapeError

HTML_TYPES = ("text/html", "application/xhtml+xml")
_REDIRECTS = {301, 302, 303, 307, 308}
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_WHATWG_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252",
                   "us-ascii": "cp1252", "latin-1": "cp1252"}

#: Called before each hop (and each redirect target) with its URL; raise to refuse it.
HopCheck = Callable[[httpx.URL], Awaitable[None]]


class FetchLimits(BaseModel):
    connect_s: float = 5.0
    read_s: float = 10.0
    write_s: float = 5.0
    pool_s: float = 5.0
    deadline_s: float = 20.0
    max_bytes: int = 3_000_000
    max_redirects: int = 5

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_s, read=self.read_s, write=self.write_s, pool=self.pool_s
        )


class FetchResult(BaseModel):
    url: str
    status: int
    content_type: str = ""
    text: str | None = None
    accepted: bool = True
    redirects: list[str] = Field(default_factory=list)
    decoded_bytes: int = 0
    body: bytes | None = Field(None, exclude=True, repr=False)


class _Inflater:
    """Incremental gzip/deflate decoding that never produces more than the budget allows."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._d: zlib._Decompress | None = None

    def _start(self, first: bytes) -> zlib._Decompress:
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        zlib_header = len(first) >= 2 and (first[0] & 0x0F) == 8 and (
            (first[0] << 8) | first[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> list[bytes]:
        """Decode ``data``; stops once more than ``room`` bytes came out."""
        if self.encoding in ("", "identity"):
            return [data]
        if self._d is None:
            self._d = self._start(data)
        out, produced, buf = [], 0, data
        while buf and produced <= room:
            piece = self._d.decompress(buf, room - produced + 1)
            out.append(piece)
            produced += len(piece)
            buf = self._d.unconsumed_tail
        return out


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _charset_param(content_type: str) -> str | None:
    m = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.I)
    return m.group(1) if m else None


def _valid_codec(name: str | None) -> str | None:
    if not name:
        return None
    name = _WHATWG_ALIASES.get(name.strip().lower(), name.strip().lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_body(body: bytes, content_type: str = "") -> str:
    """Text of a body: BOM, then the HTTP charset, then ``<meta charset>``, then UTF-8/cp1252."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            return body[len(bom):].decode(codec, errors="replace")
    meta = _META_CHARSET.search(body[:4096])
    codec = _valid_codec(_charset_param(content_type)) or _valid_codec(
        meta.group(1).decode("ascii", "ignore") if meta else None
    )
    if codec and not codec.startswith("utf-16"):
        return body.decode(codec, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


async def _read_body(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
        raise ScrapeError(Outcome.UNREACHABLE, f"unsupported content-encoding {encoding!r}")
    if declared.isdigit() and encoding in ("", "identity") and int(declared) > max_bytes:
        raise ScrapeError(Outcome.TOO_LARGE, f"declared {declared} bytes > cap {max_bytes}")
    inflater, parts, total = _Inflater(encoding), [], 0
    async for raw in response.aiter_raw():
        for piece in inflater.feed(raw, max_bytes - total):
            total += len(piece)
            if total > max_bytes:
                raise ScrapeError(Outcome.TOO_LARGE, f"body over {max_bytes} decoded bytes")
            parts.append(piece)
    return b"".join(parts)


def _next_url(response: httpx.Response) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise ScrapeError(Outcome.UNREACHABLE, f"redirect {response.status_code} without Location")
    target = response.url.join(location)
    if target.scheme not in ("http", "https"):
        raise ScrapeError(Outcome.BLOCKED, f"redirect to non-HTTP URL {target}")
    return target


async def _follow(client: httpx.AsyncClient, url: httpx.URL, limits: FetchLimits,
                  accept: tuple[str, ...] | None, check: HopCheck | None) -> FetchResult:
    redirects: list[str] = []
    while True:
        if check is not None:
            await check(url)
        request = client.build_request("GET", url, timeout=limits.timeout())
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
        except httpx.RemoteProtocolError as exc:
            if "location header" in str(exc).lower():  # e.g. an octal IP httpx cannot parse
                raise ScrapeError(Outcome.BLOCKED, f"invalid redirect target: {exc}") from exc
            raise
        try:
            if response.status_code in _REDIRECTS:
                if len(redirects) >= limits.max_redirects:
                    raise ScrapeError(Outcome.UNREACHABLE, f"more than {limits.max_redirects} "
                                      "redirects")
                redirects.append(str(url))
                url = _next_url(response)
                continue
            return await _finish(response, limits, accept, redirects)
        finally:
            await response.aclose()


async def _finish(response: httpx.Response, limits: FetchLimits, accept: tuple[str, ...] | None,
                  redirects: list[str]) -> FetchResult:
    ctype = response.headers.get("content-type", "")
    result = FetchResult(url=str(response.url), status=response.status_code,
                         content_type=ctype, redirects=redirects)
    if accept is not None and ctype and _media_type(ctype) not in accept:
        result.accepted = False
        return result
    body = await _read_body(response, limits.max_bytes)
    result.decoded_bytes = len(body)
    result.body = body
    if not _media_type(ctype).startswith("image/"):
        result.text = decode_body(body, ctype)
    return result


async def fetch(client: httpx.AsyncClient, url: str | httpx.URL, limits: FetchLimits, *,
                accept: tuple[str, ...] | None = HTML_TYPES,
                check: HopCheck | None = None) -> FetchResult:
    """GET ``url`` within ``limits``; raises ``ScrapeError`` with a typed outcome on failure.

    Non-2xx answers are returned (the caller decides); a body whose media type is not in
    ``accept`` is not read (``accepted=False``).
    """
    try:
        async with asyncio.timeout(limits.deadline_s):
            return await _follow(client, httpx.URL(url), limits, accept, check)
    except TimeoutError as exc:
        raise ScrapeError(Outcome.TIMEOUT, f"{url}: deadline {limits.deadline_s}s passed") from exc
    except httpx.TimeoutException as exc:
        raise ScrapeError(Outcome.TIMEOUT, f"{url}: {type(exc).__name__}") from exc
    except AddressRefused as exc:
        raise ScrapeError(Outcome.BLOCKED, str(exc)) from exc
    except (httpx.TransportError, httpx.InvalidURL) as exc:
        raise ScrapeError(Outcome.UNREACHABLE, f"{url}: {type(exc).__name__}: {exc}") from exc
