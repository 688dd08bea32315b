"""The adapter every system implements, and what the trial needs from it.

An adapter starts a system's workers (its own worker command, in processes of its own), submits
jobs the way that system's users do, and reports when jobs started and ended. The default
implementation reads the ``bench:done`` list that every bench task writes (``record.py``).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import redis

from bench.queue import procs
from bench.queue.record import DONE_KEY, URL_ENV, parse

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
KINDS = ("noop", "sleep")


@dataclass
class Batch:
    """Jobs submitted back to back: their handles, the wall time, each submit's latency."""

    handles: list[str]
    elapsed_s: float
    submit_s: list[float] = field(default_factory=list)


class Adapter:
    """One system at one concurrency (``processes`` × ``threads``)."""

    name: ClassVar[str] = ""
    #: Redis database of this system on the shared server (flushed before and after a trial).
    db: ClassVar[int] = 0

    def __init__(self, base_url: str, processes: int, threads: int, log_dir: Path) -> None:
        self.url = f"{base_url.rsplit('/', 1)[0]}/{self.db}"
        self.processes, self.threads = processes, threads
        self.log_dir = log_dir
        self.redis = redis.Redis.from_url(self.url)
        self.workers: list[subprocess.Popen] = []  # the worker trees' roots
        self.others: list[subprocess.Popen] = []  # started too, not workers (the API)
        self._popped: dict[str, tuple[float, float]] = {}
        #: Submissions refused or lost in a ``submit_many`` (only the HTTP client has any).
        self.submit_errors: list[str] = []
        self._paused: list[int] = []
        os.environ[URL_ENV] = self.url

    # -- what a system describes ----------------------------------------------------------
    def shape(self) -> str:
        """How the concurrency is made (shown in the table)."""
        return f"{self.processes} proc × {self.threads} thr"

    def command(self) -> list[list[str]]:
        """The worker command lines (for the report)."""
        return [list(p.args) for p in self.workers]

    # -- processes ------------------------------------------------------------------------
    def env(self, **extra: str) -> dict[str, str]:
        """The harness's environment without any Redis or repertory setting of its own (a
        REDIS_URL there could point at someone's server), plus ours."""
        inherited = {k: v for k, v in os.environ.items()
                     if k != "REDIS_URL" and not k.startswith("REPERTORY_")}
        return {**inherited, URL_ENV: self.url, "PYTHONPATH": str(ROOT),
                "PYTHONUNBUFFERED": "1", **extra}

    def spawn(self, name: str, argv: list[str], *, worker: bool = True,
              **env: str) -> subprocess.Popen:
        log = open(self.log_dir / f"{self.name}-{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(argv, env=self.env(**env), cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        (self.workers if worker else self.others).append(proc)
        return proc

    def start(self) -> None:
        raise NotImplementedError

    def worker_pids(self) -> list[int]:
        return procs.tree(p.pid for p in self.workers)

    def check_alive(self) -> None:
        for proc in self.workers + self.others:
            if proc.poll() is not None:
                raise RuntimeError(f"{self.name}: {proc.args[:4]} exited with {proc.returncode}")

    def pause(self) -> None:
        """SIGSTOP the worker trees: jobs queue up, the workers stay booted and warm."""
        self._paused = self.worker_pids()
        procs.send(self._paused, procs.signal.SIGSTOP)

    def resume(self) -> None:
        procs.send(self._paused + self.worker_pids(), procs.signal.SIGCONT)
        self._paused = []

    def stop(self) -> None:
        procs.stop_trees(self.workers + self.others)

    def close(self) -> None:
        self.redis.close()

    # -- jobs -----------------------------------------------------------------------------
    def submit(self, kind: str, tag: str) -> str:
        """Submit one job of ``kind`` (``noop`` or ``sleep``) labelled ``tag``; its handle."""
        raise NotImplementedError

    def submit_many(self, kind: str, tags: Sequence[str]) -> Batch:
        """One client thread submitting back to back."""
        handles, lat = [], []
        clock = time.perf_counter
        started = clock()
        for tag in tags:
            t0 = clock()
            handles.append(self.submit(kind, tag))
            lat.append(clock() - t0)
        return Batch(handles, clock() - started, lat)

    def wait_next(self, handle: str, timeout_s: float) -> None:
        """Block until the job ``handle`` (submitted last, nothing else running) has run."""
        got = self.redis.blpop([DONE_KEY], timeout=timeout_s)
        if got is None:
            raise TimeoutError(f"{self.name}: job {handle} did not run in {timeout_s}s")
        tag, start, end = parse(got[1])
        self._popped[tag] = (start, end)

    def done_count(self) -> int:
        """How many jobs have finished so far (monotonic within a trial phase)."""
        return int(self.redis.llen(DONE_KEY))

    def outcomes(self, handles: Sequence[str]) -> dict[str, tuple[float, float]]:
        """handle → (start, end) epoch seconds, for those jobs that ran."""
        found = dict(self._popped)
        for raw in self.redis.lrange(DONE_KEY, 0, -1):
            tag, start, end = parse(raw)
            found[tag] = (start, end)
        return {h: found[h] for h in handles if h in found}

    def reset(self) -> None:
        """Between phases, workers idle: forget what earlier phases recorded."""
        self.redis.delete(DONE_KEY)
        self._popped.clear()

    def extra(self) -> dict[str, object]:
        """System-specific figures for the report (the API's RSS, say)."""
        return {}


def pct(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) by the nearest-rank method; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
