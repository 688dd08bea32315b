"""Shared fixtures: real servers only.

``redis_url`` is an embedded Valkey started once per session (or ``REDIS_URL`` when set, so the
suite can run against any Redis 6+ / Valkey server).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pools.embedded import EmbeddedValkey


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("REDIS_URL")  # the suite's own switch, not app config
    if external:
        yield external
        return
    server = EmbeddedValkey(Path(tmp_path_factory.mktemp("valkey")))
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture()
def redis_client(redis_url: str) -> Iterator[object]:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    try:
        yield client
    finally:
        client.close()


# -- a live stack: uvicorn API + supervised worker processes on the embedded Valkey ----------

import itertools  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
_db_numbers = itertools.count(1)

#: Fast settings for tests: quick crash detection, short backoffs, private webhooks allowed.
TEST_ENV = {
    "REPERTORY_REDIS__HEARTBEAT_TIMEOUT_MS": "2000",
    "REPERTORY_REDIS__MAINTENANCE_CHANCE": "1000000",
    "REPERTORY_POOLS__HEARTBEAT_INTERVAL_S": "1",
    "REPERTORY_POOLS__SHUTDOWN_TIMEOUT_MS": "3000",
    "REPERTORY_JOBS__MIN_BACKOFF_MS": "200",
    "REPERTORY_JOBS__MAX_BACKOFF_MS": "1000",
    "REPERTORY_NOTIFY__MIN_BACKOFF_MS": "200",
    "REPERTORY_NOTIFY__MAX_BACKOFF_MS": "1000",
    "REPERTORY_NOTIFY__MAX_RETRIES": "3",
    "REPERTORY_NOTIFY__ALLOW_PRIVATE_TARGETS": "true",
    "HF_HUB_OFFLINE": "1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Stack:
    """Real processes: an API (uvicorn) and worker pools (`repertory worker`)."""

    def __init__(self, redis_url: str, var_dir: Path, **env: str) -> None:
        base, _, _ = redis_url.rpartition("/")
        self.redis_url = f"{base}/{next(_db_numbers) % 15 + 1}"
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()
        self.env = {**os.environ, **TEST_ENV, "REDIS_URL": self.redis_url,
                    "REPERTORY_VAR_DIR": str(var_dir), "PYTHONPATH": str(REPO), **env}
        self.env.pop("REPERTORY_POOLS__CURRENT", None)
        self.procs: dict[str, subprocess.Popen] = {}
        self.port = free_port()
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def _spawn(self, name: str, argv: list[str], **env: str) -> subprocess.Popen:
        log = open(Path(self.env["REPERTORY_VAR_DIR"]) / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(argv, env={**self.env, **env}, cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_api(self) -> None:
        self._spawn("api", [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app",
                            "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"])
        wait_until(self._api_up, 60, what="API to answer /healthz")

    def _api_up(self) -> bool:
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def start_pool(self, pool: str = "cpu", processes: int = 1, threads: int = 2,
                   name: str | None = None, **env: str) -> subprocess.Popen:
        key = pool.upper()
        env = {f"REPERTORY_POOLS__{key}__PROCESSES": str(processes),
               f"REPERTORY_POOLS__{key}__THREADS": str(threads), **env}
        before = len(self.workers(pool))
        proc = self._spawn(name or f"pool-{pool}", [sys.executable, "-m", "repertory_cli.main",
                                                    "worker", "--pool", pool], **env)
        wait_until(lambda: len(self.workers(pool)) >= before + processes, 90,
                   what=f"{processes} {pool} worker(s) to heartbeat")
        return proc

    def workers(self, pool: str | None = None) -> list[dict]:
        try:
            found = self.http.get("/v1/workers").json()
        except httpx.TransportError:
            return []
        return [w for w in found if pool is None or w["pool"] == pool]

    def submit(self, path: str, body: dict, headers: dict | None = None) -> dict:
        response = self.http.post(path, json=body, headers=headers or {})
        assert response.status_code == 202, response.text
        return response.json()

    def job(self, job_id: str) -> dict:
        return self.http.get(f"/v1/jobs/{job_id}").json()

    def wait_status(self, job_id: str, statuses: set[str] | str, timeout: float = 60) -> dict:
        wanted = {statuses} if isinstance(statuses, str) else statuses
        return wait_until(lambda: (j := self.job(job_id))["status"] in wanted and j, timeout,
                          what=f"job {job_id} to reach {sorted(wanted)}")

    def close(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        self.http.close()


@pytest.fixture()
def make_stack(redis_url: str, tmp_path: Path):
    stacks: list[Stack] = []

    def factory(**env: str) -> Stack:
        stack = Stack(redis_url, tmp_path, **env)
        stacks.append(stack)
        return stack

    yield factory
    for stack in stacks:
        stack.close()


@pytest.fixture(scope="module")
def stack(redis_url: str, tmp_path_factory: pytest.TempPathFactory):
    """An API and one cpu-pool worker process, ready; shared by a test module."""
    s = Stack(redis_url, tmp_path_factory.mktemp("stack"))
    try:
        s.start_api()
        s.start_pool("cpu", processes=1, threads=4)
        yield s
    finally:
        s.close()
