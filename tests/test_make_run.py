"""`make run` starts the whole stack on embedded defaults and Ctrl-C stops all of it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import httpx
from stack_support import REPO, free_port, wait_until


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_make_run_answers_readyz_within_60_seconds_and_ctrl_c_stops_everything(tmp_path):
    api_port, valkey_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("REPERTORY_") and k not in ("REDIS_URL", "QDRANT_URL")}
    env.update({"REPERTORY_API__PORT": str(api_port),
                "REPERTORY_REDIS__EMBEDDED_PORT": str(valkey_port),
                # relative, like the default "var": servers must not resolve it twice
                "REPERTORY_VAR_DIR": os.path.relpath(tmp_path / "var", REPO),
                "REPERTORY_POOLS__SHUTDOWN_TIMEOUT_MS": "3000"})
    log = open(tmp_path / "make-run.log", "wb")  # noqa: SIM115
    started = time.monotonic()
    proc = subprocess.Popen(["make", "run"], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def ready() -> dict | None:
            try:
                r = httpx.get(f"http://127.0.0.1:{api_port}/readyz", timeout=2)
                return r.json() if r.status_code == 200 else None
            except httpx.TransportError:
                return None

        body = wait_until(ready, 60, interval=0.5, what="/readyz from make run")
        assert time.monotonic() - started < 60
        assert body["ready"] and body["broker"]
        assert (tmp_path / "var" / "valkey" / "appendonlydir").is_dir(), "AOF is on"
        for pool in ("cpu", "index", "gpu"):  # the whole stack, not just the API
            wait_until(lambda p=pool: (ready() or {}).get("workers_by_pool", {}).get(p), 90,
                       interval=0.5, what=f"the {pool} pool to heartbeat")
        job = httpx.post(f"http://127.0.0.1:{api_port}/v1/diag", json={"mode": "ok"}).json()
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{api_port}/v1/jobs/{job['job_id']}")
                   .json()["status"] == "succeeded", 30, what="a job through make run")
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        try:
            code = proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert code in (0, -signal.SIGINT, 2, 130), (tmp_path / "make-run.log").read_text()[-3000:]
    assert not _port_open(api_port) and not _port_open(valkey_port)
    leftovers = subprocess.run(["pgrep", "-f", "--", f"--port {valkey_port}"], capture_output=True)
    assert leftovers.returncode == 1, "the embedded Valkey stopped"
