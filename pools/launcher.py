"""Starting and supervising processes: worker pools, the API, the scheduler, embedded Valkey.

Each worker process is its own ``dramatiq`` instance with one process, so one can be recycled
(max tasks per child) or die (kill -9) without taking the others down: the supervisor starts
a fresh one. GPU pools get one process per device with ``CUDA_VISIBLE_DEVICES`` set.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings
from pools.broker import redis_url
from pools.definitions import Pool, get_pool

log = logging.getLogger("repertory.launcher")


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    restart: bool = True
    proc: subprocess.Popen | None = None
    restarts: int = 0
    started_at: float = 0.0

    def start(self) -> None:
        # Own session: a terminal Ctrl-C reaches only the supervisor, which then stops each
        # child exactly once (a second signal makes Dramatiq kill instead of drain).
        self.proc = subprocess.Popen(self.argv, env=self.env, start_new_session=True)
        self.started_at = time.monotonic()
        log.info("started %s (pid %d)", self.name, self.proc.pid)


def base_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["REDIS_URL"] = redis_url(settings)
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def worker_children(settings: Settings, pool_name: str) -> list[Child]:
    pool = get_pool(settings, pool_name)
    devices = _devices(pool)
    env = base_env(settings) | {"REPERTORY_POOLS__CURRENT": pool.name}
    prefetch = pool.spec.prefetch or 2 * pool.spec.threads
    env["dramatiq_queue_prefetch"] = str(prefetch)
    env["dramatiq_worker_timeout"] = str(pool.poll_ms)
    children = []
    count = len(devices) if devices else pool.spec.processes
    for index in range(count):
        child_env = dict(env)
        if devices:
            child_env["CUDA_VISIBLE_DEVICES"] = str(devices[index])
        children.append(Child(f"{pool.name}-worker-{index}", worker_argv(settings, pool),
                              child_env))
    return children


def worker_argv(settings: Settings, pool: Pool) -> list[str]:
    return [
        sys.executable, "-m", "dramatiq", "actors",
        "--processes", "1", "--threads", str(pool.spec.threads),
        "--queues", *pool.queues,
        "--worker-shutdown-timeout", str(settings.pools.shutdown_timeout_ms),
    ]


def _devices(pool: Pool) -> list[int]:
    if not pool.per_gpu:
        return []
    from pools.gpu import discover_devices

    found = [d.index for d in discover_devices()]
    if not found:
        log.warning("pool %s: no CUDA device found; running one CPU process", pool.name)
    return found


def api_child(settings: Settings) -> Child:
    argv = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app",
            "--host", settings.api.host, "--port", str(settings.api.port),
            "--no-access-log"]
    return Child("api", argv, base_env(settings))


def scheduler_child(settings: Settings) -> Child:
    argv = [str(Path(sys.executable).with_name("periodiq")), "actors"]
    return Child("scheduler", argv, base_env(settings))


class Supervisor:
    """Runs children in the foreground; restarts those that exit; stops all on a signal."""

    def __init__(self, children: list[Child], *, shutdown_timeout_s: float = 30.0) -> None:
        self.children = children
        self.shutdown_timeout_s = shutdown_timeout_s
        self.running = False

    def run(self) -> int:
        self.running = True
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in self.children:
                child.start()
            while self.running:
                self._reap()
                time.sleep(0.5)
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _on_signal(self, signum: int, frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        self.running = False

    def _reap(self) -> None:
        for child in self.children:
            if child.proc is None or child.proc.poll() is None:
                continue
            code = child.proc.returncode
            if not (self.running and child.restart):
                continue
            child.restarts += 1
            # Back off when a child dies at start (bad config, broker down).
            quick = time.monotonic() - child.started_at < 5
            log.warning("%s exited with %s; restarting (#%d)", child.name, code, child.restarts)
            if quick:
                time.sleep(min(30, 2 ** min(child.restarts, 5)))
            if self.running:
                child.start()

    def stop(self) -> None:
        live = [c for c in self.children if c.proc is not None and c.proc.poll() is None]
        for child in live:
            child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.shutdown_timeout_s
        for child in live:
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing", child.name)
                child.proc.kill()
                child.proc.wait()
