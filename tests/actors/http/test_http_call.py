"""One attempt of an HTTP job against a real local server, through the guarded transport."""

from __future__ import annotations

import asyncio
import ipaddress
import json

import httpx
import pytest
from http_site import HttpSite

from actors.http.call import CallSpec, RetryableCall, attempt, retry_after_ms
from pools.errors import PermanentError
from pools.net.transport import GuardedTransport, static_resolver

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


@pytest.fixture(scope="module")
def site():
    with HttpSite() as server:
        yield server


def _run(spec: CallSpec, *, allowed=LOOPBACK, resolver=None, response_bytes: int = 65_536):
    async def go():
        transport = GuardedTransport(allowed=allowed, resolver=resolver)
        async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
            return await attempt(client, spec, response_bytes=response_bytes,
                                 retry_after_cap_s=3600)

    return asyncio.run(go())


def test_a_call_records_status_latency_headers_and_body(site) -> None:
    out = _run(CallSpec(url=site.url("/ok")))
    assert out.status_code == 200 and out.latency_ms > 0
    assert out.headers["x-site"] == "ok"
    assert json.loads(out.body) == {"ok": True} and not out.body_truncated


def test_an_object_body_is_sent_as_json_with_the_jobs_headers(site) -> None:
    out = _run(CallSpec(url=site.url("/echo"), method="POST", body={"a": [1, 2]},
                        headers={"X-Team": "billing"}))
    echoed = json.loads(out.body)
    assert echoed["method"] == "POST" and json.loads(echoed["body"]) == {"a": [1, 2]}
    assert echoed["headers"]["content-type"] == "application/json"
    assert echoed["headers"]["x-team"] == "billing"


def test_only_the_first_bytes_of_a_large_body_are_kept(site) -> None:
    out = _run(CallSpec(url=site.url("/big?size=200000")), response_bytes=65_536)
    assert len(out.body) == 65_536 and out.body_truncated


def test_5xx_and_429_are_retryable_and_carry_retry_after(site) -> None:
    with pytest.raises(RetryableCall) as failed:
        _run(CallSpec(url=site.url("/flaky/r1?fail=1&code=429&retry_after=7")))
    assert failed.value.status == 429 and failed.value.delay == 7000
    with pytest.raises(RetryableCall) as failed:
        _run(CallSpec(url=site.url("/status/503")))
    assert failed.value.kind == "http_503" and failed.value.delay is None


def test_other_4xx_and_unexpected_statuses_are_permanent(site) -> None:
    with pytest.raises(PermanentError) as failed:
        _run(CallSpec(url=site.url("/status/404")))
    assert failed.value.kind == "http_404" and "not retried" in failed.value.message
    with pytest.raises(PermanentError):
        _run(CallSpec(url=site.url("/ok"), expect_status=[201]))
    assert _run(CallSpec(url=site.url("/status/404"), expect_status=[404])).status_code == 404


def test_a_call_past_its_timeout_is_retryable(site) -> None:
    with pytest.raises(RetryableCall) as failed:
        _run(CallSpec(url=site.url("/slow?delay=3"), timeout_s=0.5))
    assert failed.value.kind == "timeout"


def test_a_slow_answer_within_the_timeout_succeeds(site) -> None:
    """Past httpx's default 5 s read timeout: the job's own timeout_s is what counts."""
    assert _run(CallSpec(url=site.url("/slow?delay=6"), timeout_s=30)).status_code == 200


def test_an_internal_target_is_refused_unless_its_network_is_allowed(site) -> None:
    before = len(site.seen("/ok"))
    with pytest.raises(PermanentError) as failed:
        _run(CallSpec(url=site.url("/ok")), allowed=())
    assert failed.value.kind == "blocked"
    # A name resolving to loopback is refused the same way (checked after resolution).
    resolver = static_resolver({"api.internal.test": [("127.0.0.1", site.port)]})
    url = f"http://api.internal.test:{site.port}/ok"
    with pytest.raises(PermanentError):
        _run(CallSpec(url=url), allowed=(), resolver=resolver)
    assert len(site.seen("/ok")) == before  # nothing reached the server
    assert _run(CallSpec(url=url), resolver=resolver).status_code == 200


def test_retry_after_reads_seconds_and_http_dates_and_is_capped() -> None:
    assert retry_after_ms("3", cap_s=60) == 3000
    assert retry_after_ms("600", cap_s=60) == 60_000
    assert retry_after_ms("Wed, 21 Oct 2015 07:28:30 GMT", cap_s=60,
                          now=1445412500.0) == 10_000
    assert retry_after_ms("soon", cap_s=60) is None and retry_after_ms(None, cap_s=60) is None
