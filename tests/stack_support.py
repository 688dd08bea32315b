"""Real processes for end-to-end tests: an API (uvicorn) and worker pools on a real Valkey.

Import as ``from stack_support import Stack, wait_until`` (``tests/`` is on ``sys.path``).
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pools.embedded import free_port

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

    def start_scheduler(self, name: str = "scheduler", **env: str) -> subprocess.Popen:
        """A `repertory scheduler` process (any number may run; one leads)."""
        return self._spawn(name, [sys.executable, "-m", "repertory_cli.main", "scheduler"],
                           **env)

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

    def runner_pid(self, job_id: str) -> int:
        """The pid of the worker process running a diag job (diag records each run's pid)."""
        import redis

        client = redis.Redis.from_url(self.redis_url)
        return int(wait_until(lambda: client.lindex(f"repertory:diag:{job_id}", -1), 10,
                              what="the worker pid"))

    def close(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        self.http.close()




def scrape_env(sites_port: int, hosts: list[str]) -> dict[str, str]:
    """Settings that point the scraper at a local test site server for ``hosts``."""
    import json

    return {"REPERTORY_SCRAPE__ALLOW_LOOPBACK": "true",
            "REPERTORY_SCRAPE__STATIC_HOSTS": json.dumps({h: f"127.0.0.1:{sites_port}"
                                                          for h in hosts}),
            "REPERTORY_SCRAPE__SCHEMES": '["http"]',
            "REPERTORY_SCRAPE__PER_DOMAIN_DELAY_S": "0"}
