"""An optional bearer token guards /v1; probes and metrics stay open."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def locked(redis_url, tmp_path_factory):
    from stack_support import Stack

    s = Stack(redis_url, tmp_path_factory.mktemp("auth"), REPERTORY_API__TOKEN="t0ken")
    try:
        s.start_api()
        yield s
    finally:
        s.close()


def test_v1_routes_need_the_bearer_token(locked):
    anonymous = locked.http.post("/v1/diag", json={"mode": "ok"})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    wrong = locked.http.get("/v1/jobs", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = locked.http.post("/v1/diag", json={"mode": "ok"},
                             headers={"Authorization": "Bearer t0ken"})
    assert right.status_code == 202


def test_probes_and_metrics_stay_open(locked):
    for path in ("/healthz", "/readyz", "/metrics", "/dashboard"):
        assert locked.http.get(path).status_code == 200, path
