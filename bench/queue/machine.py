"""How quiet the machine is: busy CPU from /proc/stat, and who else is using it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from bench.queue import procs


def busy_s() -> float:
    """CPU seconds spent busy (all cores, not idle or iowait) since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / procs.CLK_TCK


def _cpu_by_pid() -> dict[int, tuple[float, str]]:
    found = {}
    for pid, fields in procs.stats():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        found[pid] = ((int(fields[11]) + int(fields[12])) / procs.CLK_TCK,
                      cmd.replace(b"\0", b" ").decode(errors="replace").strip()[:120])
    return found


def busy_others(window_s: float = 2.0, below: float = 0.10) -> list[dict[str, object]]:
    """Processes (not this one) that used more than ``below`` of a core over ``window_s``."""
    before = _cpu_by_pid()
    time.sleep(window_s)
    after = _cpu_by_pid()
    mine = os.getpid()
    out = []
    for pid, (cpu, cmd) in after.items():
        used = (cpu - before.get(pid, (0.0, ""))[0]) / window_s
        if pid != mine and used > below:
            out.append({"pid": pid, "cores": round(used, 2), "cmd": cmd})
    return sorted(out, key=lambda p: -float(p["cores"]))  # type: ignore[arg-type]


def snapshot() -> dict[str, object]:
    return {**_sample(), "loop_ms": loop_ms()}


def _sample() -> dict[str, object]:
    return {"loadavg": [round(v, 2) for v in os.getloadavg()], "busy": busy_others()}


def loop_ms(n: int = 2_000_000) -> float:
    """A fixed pure-Python loop, best of three, in ms: how fast one core of this machine runs
    Python right now. Sessions run on different machines; Dramatiq's CPU per no-op job
    doubled between two of them with no change to it, so absolute rates are compared only
    alongside this figure (ratios inside one run need no such care)."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(n):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def wait_quiet(max_wait_s: float, poll_s: float = 30.0,
               say: Callable[[str], None] = print) -> dict[str, object]:
    """Wait (up to ``max_wait_s``) until no other process uses more than a tenth of a core in
    three samples over ~15 s and the 1-minute load is under 1; returns the last snapshot and
    how long it waited."""
    started = time.monotonic()
    while True:
        snap = _sample()  # (the loop timing once at the end: it would load the machine it polls)
        for _ in range(2):  # quiet for ~15 s, not just between two of someone's tests
            if snap["busy"]:
                break
            time.sleep(5.0)
            snap = _sample()
        waited = time.monotonic() - started
        load1 = snap["loadavg"][0]  # type: ignore[index]
        if (not snap["busy"] and load1 < 1.0) or waited >= max_wait_s:
            return {**snap, "loop_ms": loop_ms(), "waited_s": round(waited),
                    "quiet": not snap["busy"]}
        say(f"machine busy (load {load1}; {snap['busy'][:3]}); waiting {poll_s:.0f} s")
        time.sleep(poll_s)


def wait_idle(max_wait_s: float, below: float = 0.3,
              say: Callable[[str], None] = print) -> float:
    """Before a trial: wait (up to ``max_wait_s``, polling each 5 s) until no other process
    uses more than ``below`` of a core over 1 s; returns how long it waited."""
    started = time.monotonic()
    while (busy := busy_others(window_s=1.0, below=below)) and (
            time.monotonic() - started < max_wait_s):
        say(f"  waiting for {busy[0]['cmd'][:60]!r} ({busy[0]['cores']} cores)")
        time.sleep(4.0)
    return time.monotonic() - started
