"""The submit fast path answers exactly as the FastAPI route would: the same requests sent to
an API with it (the default) and to one without it (``REPERTORY_API__FAST_SUBMIT=false``) get
the same statuses, bodies and job records; only the plain success case is taken by it."""

from __future__ import annotations

import re

import httpx
import pytest

TOKEN = {"Authorization": "Bearer t0ken"}
JSON = {**TOKEN, "content-type": "application/json"}

#: name → (headers, body); sent in this order to both APIs.
REQUESTS: list[tuple[str, dict[str, str], bytes]] = [
    ("plain", JSON, b'{"mode": "ok"}'),
    ("sleep with options", JSON, b'{"mode": "sleep", "seconds": 0.5, "delay_ms": 10}'),
    ("no token", {"content-type": "application/json"}, b'{"mode": "ok"}'),
    ("wrong token", {"Authorization": "Bearer nope", "content-type": "application/json"},
     b'{"mode": "ok"}'),
    ("unknown mode", JSON, b'{"mode": "explode"}'),
    ("negative delay", JSON, b'{"mode": "ok", "delay_ms": -1}'),
    ("malformed JSON", JSON, b'{"mode": '),
    ("JSON that is not an object", JSON, b"[1, 2]"),
    ("text/plain", {**TOKEN, "content-type": "text/plain"}, b'{"mode": "ok"}'),
    ("internal callback", JSON, b'{"mode": "ok", "callback_url": "http://127.0.0.1:9/x"}'),
    ("first with a key", {**JSON, "Idempotency-Key": "k-1"}, b'{"mode": "ok"}'),
    ("same key again", {**JSON, "Idempotency-Key": "k-1"}, b'{"mode": "ok"}'),
    ("over-long key", {**JSON, "Idempotency-Key": "k" * 201}, b'{"mode": "ok"}'),
]


@pytest.fixture(scope="module")
def apis(redis_url, tmp_path_factory):
    from stack_support import Stack

    env = {"REPERTORY_API__TOKEN": "t0ken", "REPERTORY_NOTIFY__ALLOW_PRIVATE_TARGETS": "false"}
    fast = Stack(redis_url, tmp_path_factory.mktemp("fast"), **env)
    routed = Stack(redis_url, tmp_path_factory.mktemp("routed"), **env,
                   REPERTORY_API__FAST_SUBMIT="false")
    try:
        fast.start_api()
        routed.start_api()
        yield fast, routed
    finally:
        fast.close()
        routed.close()


def _answers(client: httpx.Client) -> list[tuple[int, object]]:
    out = []
    for _, headers, body in REQUESTS:
        response = client.post("/v1/diag", content=body, headers=headers)
        out.append((response.status_code, response.json()))
    return out


def _masked(answer: object, ids: dict[str, str]) -> object:
    """Job ids replaced by their order of appearance, so two runs compare equal."""
    text = repr(answer)
    for job_id in re.findall(r"[0-9a-f]{32}", text):
        ids.setdefault(job_id, f"<job {len(ids)}>")
        text = text.replace(job_id, ids[job_id])
    return text


def _fast_count(client: httpx.Client) -> float:
    metrics = client.get("/metrics").text
    found = re.search(r'repertory_api_fast_submits_total\{path="/v1/diag"\} (\S+)', metrics)
    return float(found.group(1)) if found else 0.0


def test_every_request_gets_the_same_answer_with_and_without_the_fast_path(apis):
    fast, routed = apis
    fast_answers, routed_answers = _answers(fast.http), _answers(routed.http)
    fast_ids: dict[str, str] = {}
    routed_ids: dict[str, str] = {}
    for (name, _, _), (fs, fb), (rs, rb) in zip(REQUESTS, fast_answers, routed_answers,
                                               strict=True):
        assert fs == rs, f"{name}: {fs} with the fast path, {rs} without"
        assert _masked(fb, fast_ids) == _masked(rb, routed_ids), name
    statuses = [status for status, _ in fast_answers]
    assert statuses.count(202) == 4 and 401 in statuses and 422 in statuses, statuses
    # only the successes took the fast path; the routed API took none
    assert _fast_count(fast.http) == statuses.count(202)
    assert _fast_count(routed.http) == 0


def test_a_fast_submission_writes_the_same_record_as_the_route(apis):
    fast, routed = apis
    jobs = [stack.submit("/v1/diag", {"mode": "sleep", "seconds": 1}, headers=TOKEN)
            for stack in (fast, routed)]
    records = [stack.http.get(f"/v1/jobs/{job['job_id']}", headers=TOKEN).json()
               for stack, job in zip((fast, routed), jobs, strict=True)]
    keep = ("kind", "queue", "status", "attempts")
    assert [{k: r.get(k) for k in keep} for r in records][0] == \
        [{k: r.get(k) for k in keep} for r in records][1]
    assert records[0]["status"] == "queued"
