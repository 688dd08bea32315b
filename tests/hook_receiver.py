"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 that takes POSTs."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Call:
    status: int  # what the receiver answered
    body: bytes
    signature: str | None  # the X-Repertory-Signature header

    def json(self) -> Any:
        return json.loads(self.body)


class HookReceiver:
    """Answers the ``n``-th POST (from 0) with ``answer(n)`` and keeps every call, in order.

    ``url`` is its address; ``close()`` (or leaving a ``with`` block) stops it."""

    def __init__(self, answer: Callable[[int], int] = lambda n: 204) -> None:
        self.calls: list[Call] = []
        lock, receiver = threading.Lock(), self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    status = answer(len(receiver.calls))
                    receiver.calls.append(Call(status, body,
                                               self.headers.get("X-Repertory-Signature")))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> HookReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
