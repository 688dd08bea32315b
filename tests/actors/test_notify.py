"""Webhook delivery: typed outcomes, and no way to aim a webhook inside the network."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from actors.notify import deliver
from pools.errors import PermanentError, TransientError


@pytest.fixture()
def receiver():
    codes: list[int] = []
    seen: list[bytes] = []
    signatures: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            seen.append(self.rfile.read(int(self.headers["Content-Length"])))
            signatures.append(self.headers.get("X-Repertory-Signature"))
            self.send_response(codes.pop(0) if codes else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", codes, seen, signatures
    server.shutdown()


def test_a_webhook_to_a_loopback_address_is_refused_unless_private_targets_are_allowed(receiver):
    url, _, seen, _ = receiver
    with pytest.raises(PermanentError, match="refused"):
        deliver(url, {"id": "j"}, timeout_s=5, allow_private=False)
    assert seen == []
    assert deliver(url, {"id": "j"}, timeout_s=5, allow_private=True) == 204
    assert seen == [b'{"id":"j"}']


def test_server_errors_are_transient_and_client_errors_permanent(receiver):
    url, codes, _, _ = receiver
    codes += [503, 429, 410]
    with pytest.raises(TransientError):
        deliver(url, {}, timeout_s=5, allow_private=True)
    with pytest.raises(TransientError):
        deliver(url, {}, timeout_s=5, allow_private=True)
    with pytest.raises(PermanentError, match="410"):
        deliver(url, {}, timeout_s=5, allow_private=True)


def test_an_unreachable_webhook_is_transient():
    with pytest.raises(TransientError, match="unreachable"):
        deliver("http://127.0.0.1:9/hook", {}, timeout_s=2, allow_private=True)


def test_a_signed_webhook_carries_an_hmac_of_its_exact_body(receiver):
    import hashlib
    import hmac

    url, _, seen, signatures = receiver
    deliver(url, {"id": "j", "status": "succeeded"}, timeout_s=5, allow_private=True,
            secret="s3cret")
    expected = hmac.new(b"s3cret", seen[0], hashlib.sha256).hexdigest()
    assert signatures == [f"sha256={expected}"]
    deliver(url, {"id": "k"}, timeout_s=5, allow_private=True)
    assert signatures[1] is None
