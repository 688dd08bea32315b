"""A real HTTP/1.1 server on 127.0.0.1 for HTTP-job tests and benches (asyncio, in a thread).

Paths (query parameters in brackets):

* ``/ok`` — 200 with a small JSON body; ``/status/<code>`` — that status;
* ``/flaky/<name>`` [``fail``, ``code``, ``retry_after``] — the first ``fail`` requests to
  ``<name>`` answer ``code`` (default 503, with ``Retry-After`` when given), then 200;
* ``/slow`` [``delay``] — answers 200 after ``delay`` seconds (many at once: one loop;
  ``held``/``most_held`` count those waiting);
* ``/slowfirst/<name>`` [``delay``, ``times``] — the first ``times`` requests wait ``delay``;
* ``/big`` [``size``] — a body of ``size`` bytes; ``/echo`` — method, headers and body back;
* ``/hold/<name>`` — answers only once ``release()`` is called (``held`` counts those waiting).

Every request is recorded (``requests``: path, method, time, headers, body).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

_REASONS = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 500: "Server Error",
            503: "Service Unavailable"}


@dataclass
class Seen:
    path: str
    method: str
    at: float
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpSite:
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[Seen] = field(default_factory=list)
    _counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    held: int = 0
    most_held: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._release = asyncio.Event()
        self._thread = threading.Thread(target=self._loop.run_forever, name="http-site",
                                        daemon=True)
        self._lock = threading.Lock()

    def start(self) -> HttpSite:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, self.host, self.port, backlog=4096),
            self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def seen(self, prefix: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def release(self) -> None:
        self._loop.call_soon_threadsafe(self._release.set)

    def stop(self) -> None:
        self.release()

        async def close() -> None:
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._server.wait_closed()

        with contextlib.suppress(Exception):  # connections still open: the loop stops anyway
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> HttpSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ----------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                status, extra, payload = await self._answer(method, target, headers, body)
                writer.write(_response(status, extra, payload))
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError,
                asyncio.CancelledError):  # a client gone, or the server stopping
            pass
        finally:
            writer.close()

    async def _answer(self, method: str, target: str, headers: dict[str, str],
                      body: bytes) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        with self._lock:
            self.requests.append(Seen(path, method, time.time(), headers, body))
            self._counts[path] += 1
            count = self._counts[path]
        if path == "/ok":
            return 200, {"X-Site": "ok"}, b'{"ok": true}'
        if path.startswith("/status/"):
            return int(path.rsplit("/", 1)[1]), {}, b"status body"
        if path.startswith("/flaky/"):
            if count <= int(query.get("fail", 1)):
                extra = {"Retry-After": query["retry_after"]} if "retry_after" in query else {}
                return int(query.get("code", 503)), extra, b"try again later"
            return 200, {}, b"finally"
        if path == "/slow":
            self.held += 1
            self.most_held = max(self.most_held, self.held)
            try:
                await asyncio.sleep(float(query.get("delay", 2)))
            finally:
                self.held -= 1
            return 200, {}, b"slow answer"
        if path.startswith("/slowfirst/"):
            if count <= int(query.get("times", 1)):
                await asyncio.sleep(float(query.get("delay", 5)))
            return 200, {}, b"fast now"
        if path.startswith("/hold/"):
            self.held += 1
            self.most_held = max(self.most_held, self.held)
            try:
                await self._release.wait()
            finally:
                self.held -= 1
            return 200, {}, b"released"
        if path == "/big":
            return 200, {"Content-Type": "text/plain"}, b"x" * int(query.get("size", 100_000))
        if path == "/echo":
            echoed = {"method": method, "headers": headers, "body": body.decode("utf-8",
                                                                                "replace")}
            return 200, {"Content-Type": "application/json"}, json.dumps(echoed).encode()
        return 404, {}, b"no such path"


def _response(status: int, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
