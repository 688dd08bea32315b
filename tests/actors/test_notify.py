"""Webhook delivery: typed outcomes, and no way to aim a webhook inside the network."""

from __future__ import annotations

import pytest
from hook_receiver import HookReceiver

from actors.notify import deliver
from pools.errors import PermanentError, TransientError


@pytest.fixture()
def receiver():
    """A receiver answering each POST with the next code of ``receiver.codes`` (204 after)."""
    codes: list[int] = []
    with HookReceiver(lambda n: codes.pop(0) if codes else 204) as made:
        made.codes = codes  # type: ignore[attr-defined]
        yield made


def test_a_webhook_to_a_loopback_address_is_refused_unless_private_targets_are_allowed(receiver):
    with pytest.raises(PermanentError, match="refused"):
        deliver(receiver.url, {"id": "j"}, timeout_s=5, allow_private=False)
    assert receiver.calls == []
    assert deliver(receiver.url, {"id": "j"}, timeout_s=5, allow_private=True) == 204
    assert [c.body for c in receiver.calls] == [b'{"id":"j"}']


def test_server_errors_are_transient_and_client_errors_permanent(receiver):
    url = receiver.url
    receiver.codes += [503, 429, 410]
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

    deliver(receiver.url, {"id": "j", "status": "succeeded"}, timeout_s=5, allow_private=True,
            secret="s3cret")
    expected = hmac.new(b"s3cret", receiver.calls[0].body, hashlib.sha256).hexdigest()
    assert [c.signature for c in receiver.calls] == [f"sha256={expected}"]
    deliver(receiver.url, {"id": "k"}, timeout_s=5, allow_private=True)
    assert receiver.calls[1].signature is None
