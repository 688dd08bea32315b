"""`repertory up` leaves no process behind however it ends, and never starts on a taken port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis
from proc_support import alive, cmdline, descendants, linux_only, marked, new_mark, port_open
from stack_support import REPO, TEST_ENV, free_port, wait_until

from pools.embedded import EmbeddedValkey

STACK_PROGRAMS = ("valkey-server", "uvicorn", "dramatiq", "repertory_cli.main scheduler")


class Up:
    """``repertory up --pools cpu`` on free ports, its output in ``tmp_path/up.log``."""

    def __init__(self, tmp_path: Path, *args: str, command: str = "up", **env: str) -> None:
        self.api_port, self.valkey_port = free_port(), free_port()
        self.mark = new_mark()
        self.seen: set[int] = set()  # valkey-server overwrites its environ: not always marked
        self.log = tmp_path / f"{command}.log"
        argv = [sys.executable, "-m", "repertory_cli.main", command, *args]
        if command == "up":
            argv += ["--pools", "cpu"]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(argv, cwd=REPO, env=self._env(tmp_path, env),
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def _env(self, tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("REPERTORY_") and k not in ("REDIS_URL", "QDRANT_URL")}
        return env | TEST_ENV | self.mark | {
            "REPERTORY_API__PORT": str(self.api_port),
            "REPERTORY_REDIS__EMBEDDED_PORT": str(self.valkey_port),
            "REPERTORY_VAR_DIR": str(tmp_path / "var"),
            "REPERTORY_POOLS__SHUTDOWN_TIMEOUT_MS": "3000",
            "REPERTORY_POOLS__CPU__PROCESSES": "1",
            "REPERTORY_POOLS__CPU__THREADS": "2",
            "PYTHONPATH": str(REPO),
        } | extra

    def readyz(self) -> dict:
        try:
            response = httpx.get(f"http://127.0.0.1:{self.api_port}/readyz", timeout=2)
        except httpx.TransportError:
            return {}
        return response.json() if response.status_code == 200 else {}

    def wait_ready(self) -> None:
        def cpu_heartbeats() -> bool:
            assert self.proc.poll() is None, f"up exited early:\n{self.output()[-3000:]}"
            return bool(self.readyz().get("workers_by_pool", {}).get("cpu"))

        wait_until(cpu_heartbeats, 120, interval=0.5, what="the cpu pool to heartbeat")

    def tree(self) -> set[int]:
        pids = descendants(self.proc.pid)
        self.seen |= pids
        return pids

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def run_to_exit(self, timeout: float = 60) -> set[str]:
        """Wait for it to exit; the programs its process tree ran meanwhile."""
        seen: set[str] = set()
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            seen |= {cmdline(pid) for pid in self.tree()}
            time.sleep(0.02)
        self.proc.wait(timeout=5)
        return {name for name in STACK_PROGRAMS if any(name in line for line in seen)}

    def cleanup(self) -> None:
        """Whatever a failed test left: kill it (a passing test leaves nothing)."""
        if self.proc.poll() is None:
            self.proc.kill()
        for pid in marked(self.mark) | {pid for pid in self.seen if alive(pid)}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()


@linux_only
@pytest.mark.parametrize(("sig", "args"), [(signal.SIGHUP, ["--no-scheduler"]),
                                           (signal.SIGKILL, [])],
                         ids=["SIGHUP", "SIGKILL"])
def test_no_process_of_the_stack_outlives_up(tmp_path, sig, args):
    up = Up(tmp_path, *args)
    try:
        up.wait_ready()
        tree = up.tree()
        programs = " ".join(cmdline(pid) for pid in tree)
        expected = STACK_PROGRAMS if sig == signal.SIGKILL else STACK_PROGRAMS[:3]
        assert all(name in programs for name in expected), programs
        assert len(tree) >= 5  # valkey, uvicorn, the scheduler or not, dramatiq and its worker

        os.kill(up.proc.pid, sig)
        wait_until(lambda: not any(alive(pid) for pid in tree) and not marked(up.mark), 12,
                   interval=0.2, what=f"every process of the stack to end after {sig.name}")
        assert not port_open(up.api_port) and not port_open(up.valkey_port)
        up.proc.wait(timeout=5)
    finally:
        up.cleanup()


@linux_only
@pytest.mark.parametrize("setting", ["REPERTORY_REDIS__EMBEDDED_PORT", "REPERTORY_API__PORT"],
                         ids=["valkey-port", "api-port"])
def test_up_refuses_a_taken_port_names_its_setting_and_starts_nothing(tmp_path, setting):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        up = Up(tmp_path, **{setting: str(port)})
        try:
            started = up.run_to_exit()
        finally:
            up.cleanup()
    out = up.output()
    assert up.proc.returncode not in (0, None), out
    assert f"port {port}" in out and setting in out, out
    assert not started, f"started {started} on a taken port:\n{out}"
    assert not marked(up.mark)


def test_repertory_api_refuses_a_taken_port(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        api = Up(tmp_path, command="api", REPERTORY_API__PORT=str(port))
        try:
            code = api.proc.wait(timeout=60)
        finally:
            api.cleanup()
    out = api.output()
    assert code != 0 and f"port {port}" in out and "REPERTORY_API__PORT" in out, out


def test_embedded_valkey_refuses_a_port_where_another_server_answers(tmp_path):
    first = EmbeddedValkey(tmp_path / "first")
    first.start()
    try:
        second = EmbeddedValkey(tmp_path / "second", port=first.port)
        with pytest.raises(RuntimeError, match=f"port {first.port} is already in use"):
            second.start()
        assert second._proc is None  # its own server was stopped, not left behind
        client = redis.Redis.from_url(first.url)
        assert int(client.info("server")["process_id"]) == first._proc.pid
        client.close()
    finally:
        first.stop()
