"""Process trees from /proc: find, pause, resume, measure and kill what a trial started."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

#: Every process a trial starts inherits this variable (value: the trial's id), so the
#: orchestrator can find and kill stragglers whatever session or group they moved to.
MARK_ENV = "BENCH_QUEUE_MARK"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def stats() -> Iterator[tuple[int, list[str]]]:
    """``(pid, fields after the command name)`` of each process ``/proc/<pid>/stat`` shows."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        yield int(entry.name), stat.rsplit(")", 1)[1].split()


def _ppids() -> dict[int, int]:
    # A zombie is gone; only its entry waits to be reaped.
    return {pid: int(fields[1]) for pid, fields in stats() if fields[0] != "Z"}


def tree(roots: Iterable[int]) -> list[int]:
    """The roots that are alive and all their descendants, parents first."""
    ppids = _ppids()
    children: dict[int, list[int]] = {}
    for pid, ppid in ppids.items():
        children.setdefault(ppid, []).append(pid)
    out: list[int] = []
    todo = [r for r in roots if r in ppids]
    while todo:
        pid = todo.pop(0)
        if pid in out:
            continue
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def marked(mark: str) -> list[int]:
    """Live processes whose environment carries ``MARK_ENV=mark``."""
    needle = f"{MARK_ENV}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in env.split(b"\0"):
            found.append(int(entry.name))
    return found


def send(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def rss_kib(pids: Iterable[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def cpu_s(pids: Iterable[int]) -> float:
    """User + system CPU seconds used so far by these processes and their reaped children
    (RQ's work horses, say, which exit after each job)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / CLK_TCK


def wait_quiet(roots: list[int], *, below: float = 0.25, window_s: float = 0.5,
               timeout_s: float = 20.0) -> float:
    """Wait until the trees use less than ``below`` of a core over ``window_s`` (booting
    processes done); returns the last load seen."""
    deadline = time.monotonic() + timeout_s
    load = 1.0
    while time.monotonic() < deadline:
        pids = tree(roots)
        before = cpu_s(pids)
        time.sleep(window_s)
        load = (cpu_s(pids) - before) / window_s
        if load < below:
            break
    return load


def stop_trees(procs: list[subprocess.Popen], timeout_s: float = 5.0) -> None:
    """SIGTERM each tree (and group), wait, then SIGKILL whatever is left."""
    roots = [p.pid for p in procs if p.poll() is None]
    pids = tree(roots)
    send(pids, signal.SIGCONT)  # a paused process cannot act on SIGTERM
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
    send(pids, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    while (left := tree(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    send(left, signal.SIGKILL)
    for proc in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def kill_marked(mark: str) -> list[int]:
    """SIGKILL every process carrying the mark (stragglers of a trial); returns their pids."""
    pids = marked(mark)
    send(pids, signal.SIGKILL)
    return pids
