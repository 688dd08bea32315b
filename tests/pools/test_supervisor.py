"""The supervisor behind `repertory worker`: no orphan workers, a clear and interruptible stop."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from proc_support import alive, cmdline, descendants, linux_only, marked, new_mark
from stack_support import REPO, TEST_ENV, wait_until


class Worker:
    """``repertory worker --pool cpu`` (one process, two threads) on ``redis_url``."""

    def __init__(self, redis_url: str, tmp_path: Path) -> None:
        self.mark = new_mark()
        self.log = tmp_path / "worker.log"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("REPERTORY_") and k not in ("REDIS_URL", "QDRANT_URL")}
        env |= TEST_ENV | self.mark | {
            "REDIS_URL": redis_url, "REPERTORY_VAR_DIR": str(tmp_path / "var"),
            "REPERTORY_POOLS__CPU__PROCESSES": "1", "REPERTORY_POOLS__CPU__THREADS": "2",
            "PYTHONPATH": str(REPO)}
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "repertory_cli.main", "worker", "--pool", "cpu"],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def dramatiq(self) -> dict[int, set[int]]:
        """Each live ``dramatiq`` parent under the supervisor, with its forked processes."""
        tree = descendants(self.proc.pid)
        found = {}
        for pid in tree:
            if "dramatiq" in cmdline(pid) and pid in _children(self.proc.pid):
                found[pid] = _children(pid)
        return found

    def live_worker_processes(self) -> set[int]:
        """Forked dramatiq worker processes anywhere (an orphan is no longer under us)."""
        parents = set(self.dramatiq())
        return {pid for pid in marked(self.mark)
                if "dramatiq" in cmdline(pid) and pid not in parents and pid != self.proc.pid}

    def wait_booted(self, times: int = 1) -> None:
        wait_until(lambda: self.output().count("Worker process is ready for action") >= times,
                   120, interval=0.3, what=f"worker process boot #{times}")

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        for pid in marked(self.mark):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()


def _children(pid: int) -> set[int]:
    return {child for child in descendants(pid) if _ppid(child) == pid}


def _ppid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except OSError:
        return None


@linux_only
def test_a_worker_process_whose_dramatiq_parent_is_killed_stops_and_the_pool_does_not_grow(
        redis_url, tmp_path):
    worker = Worker(redis_url, tmp_path)
    try:
        worker.wait_booted()
        [(parent, forked)] = worker.dramatiq().items()
        assert len(forked) == 1, forked
        orphan = next(iter(forked))

        os.kill(parent, signal.SIGKILL)
        wait_until(lambda: not alive(orphan), 12, interval=0.2,
                   what=f"worker process {orphan} to stop after its parent's kill -9")

        worker.wait_booted(times=2)  # the supervisor started a fresh dramatiq
        for _ in range(10):  # and the pool stays at one process, not two
            assert len(worker.live_worker_processes()) == 1, worker.live_worker_processes()
            time.sleep(0.3)
        assert "exited (killed by SIGKILL)" in worker.output()
    finally:
        worker.cleanup()


@linux_only
def test_a_second_ctrl_c_kills_at_once_and_a_slow_stop_says_what_it_waits_for(make_stack):
    mark = new_mark()  # the pool's processes only: the API stays up
    stack = make_stack(REPERTORY_POOLS__SHUTDOWN_TIMEOUT_MS="120000")
    stack.start_api()
    proc = stack.start_pool("cpu", processes=1, threads=2, **mark)
    log = Path(stack.env["REPERTORY_VAR_DIR"]) / "pool-cpu.log"
    try:
        job = stack.submit("/v1/diag", {"mode": "sleep", "seconds": 300})["job_id"]
        stack.wait_status(job, "running")

        os.kill(proc.pid, signal.SIGINT)
        wait_until(lambda: "waiting for cpu-worker-0 (pid" in log.read_text(), 60, interval=0.2,
                   what="the supervisor to say what it waits for")
        assert "to finish its running jobs; Ctrl-C again to kill now" in log.read_text()
        assert proc.poll() is None and stack.job(job)["status"] == "running"

        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=15) == 1
        out = log.read_text()
        assert "received SIGINT again: killed cpu-worker-0 (pid" in out, out[-3000:]
        wait_until(lambda: not marked(mark), 10, what="no process of the pool left")
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in marked(mark):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


SUPERVISE = textwrap.dedent("""
    import logging, sys
    from pools.launcher import Child, Supervisor
    logging.basicConfig(level=logging.INFO, format="%(created)f %(message)s")
    fails = Child("broken", [sys.executable, "-c", "import sys; sys.exit(3)"], {})
    sys.exit(Supervisor([fails], shutdown_timeout_s=5).run())
""")


def test_a_child_that_dies_at_start_is_restarted_with_backoff_and_a_sighup_stops(tmp_path):
    log = tmp_path / "supervisor.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", SUPERVISE], cwd=REPO, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        wait_until(lambda: "3 time(s) in a row" in log.read_text(), 60, interval=0.2,
                   what="a third failed start")
        os.kill(proc.pid, signal.SIGHUP)  # a closed terminal
        assert proc.wait(timeout=30) == 0  # a stop signal, handled: a clean exit
    finally:
        if proc.poll() is None:
            proc.kill()
    out = log.read_text()
    assert "broken (pid" in out and "exited (code 3)" in out
    assert "1 time(s) in a row; restarting it in 2s" in out
    assert "2 time(s) in a row; restarting it in 4s" in out
    starts = [float(line.split()[0]) for line in out.splitlines() if "started broken" in line]
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert gaps[0] >= 1.9 and gaps[1] >= 3.9, gaps  # backed off, not a tight loop
    assert "received SIGHUP: stopping" in out
