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

from config.settings import Settings
from pools.broker import redis_url
from pools.definitions import Pool, get_pool
from pools.logs import writes_json
from pools.procs import popen

log = logging.getLogger("repertory.launcher")


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    restart: bool = True
    #: What the supervisor says it waits for while this child stops.
    stop_note: str = "to stop"
    proc: subprocess.Popen | None = None
    restarts: int = 0
    quick_exits: int = 0  # exits in a row right after a start
    started_at: float = 0.0
    restart_at: float | None = None

    def start(self) -> None:
        # Own session (a terminal's Ctrl-C reaches only the supervisor, which stops each child
        # exactly once) and SIGTERM when the supervisor dies, however it dies.
        self.proc = popen(self.argv, env=self.env)
        self.started_at = time.monotonic()
        self.restart_at = None
        log.info("started %s (pid %d)", self.name, self.proc.pid)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill_group(self) -> None:
        """SIGKILL the child and what it forked (dramatiq's worker processes share its group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            self.proc.kill()

    def label(self) -> str:
        return f"{self.name} (pid {self.proc.pid if self.proc else '-'})"


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
                              child_env, stop_note="to finish its running jobs"))
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
            "--no-access-log", "--workers", str(settings.api.workers)]
    return Child("api", argv, base_env(settings))


def scheduler_child(settings: Settings) -> Child:
    argv = [sys.executable, "-m", "repertory_cli.main", "scheduler"]
    return Child("scheduler", argv, base_env(settings))


#: Signals that stop the supervisor: Ctrl-C, a service manager, a closed terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: A child that exits sooner than this after its start is failing to start: back off.
QUICK_EXIT_S = 5.0
#: How often a slow stop says what it is waiting for.
NOTE_EVERY_S = 2.0


def say(message: str) -> None:
    """What the person at the terminal must see, whatever the log level (a WARNING line when
    the logs are JSON, so a log store gets no other shape of line)."""
    if writes_json():
        log.warning(message)
    else:
        print(f"repertory: {message}", file=sys.stderr, flush=True)


class Supervisor:
    """Runs children in the foreground; restarts those that exit; stops all on a signal.

    The first SIGINT, SIGTERM or SIGHUP stops gracefully: SIGTERM to every child, whose own
    handlers finish or requeue their work, for up to ``shutdown_timeout_s``. A second one kills
    what is left at once. Run it in the main thread: children are tied to the thread that
    started them (``pools.procs``), and only the main thread may set signal handlers.
    """

    def __init__(self, children: list[Child], *, shutdown_timeout_s: float = 30.0) -> None:
        self.children = children
        self.shutdown_timeout_s = shutdown_timeout_s
        self.signals: list[int] = []

    @property
    def stopping(self) -> bool:
        return bool(self.signals)

    def run(self) -> int:
        """Supervise until a stop signal; 0 after a graceful stop, 1 if children were killed."""
        previous = {s: signal.signal(s, self._on_signal) for s in STOP_SIGNALS}
        try:
            for child in self.children:
                if self.stopping:
                    break
                child.start()
            while not self.stopping:
                now = time.monotonic()
                for child in self.children:
                    self._tend(child, now)
                time.sleep(0.2)
        finally:
            code = self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return code

    def _on_signal(self, signum: int, frame: object) -> None:
        self.signals.append(signum)  # acted on (and reported) by the main loop

    def _tend(self, child: Child, now: float) -> None:
        if child.proc is None or child.alive:
            return
        if child.restart_at is None:
            child.restart_at = now + self._on_exit(child, now)
        if now >= child.restart_at and not self.stopping:
            child.start()

    def _on_exit(self, child: Child, now: float) -> float:
        """Log an exit; how long to wait before the restart."""
        code, lived = child.proc.returncode, now - child.started_at
        if not child.restart:
            log.warning("%s exited (%s); not restarting it", child.label(), _exit_text(code))
            return float("inf")
        child.restarts += 1
        if code == 0 or lived >= QUICK_EXIT_S:
            child.quick_exits = 0
            log.warning("%s exited (%s) after %.0fs; restarting it", child.label(),
                        _exit_text(code), lived)
            return 0.0 if lived >= 1 else 1.0
        child.quick_exits += 1
        delay = min(30, 2 ** min(child.quick_exits, 5))
        hint = (" Its own output above says why (a port in use, the broker unreachable, a bad "
                "setting?)" if code > 0 else "")
        log.error("%s exited (%s) %.1fs after it started, %d time(s) in a row; restarting it "
                  "in %ds.%s", child.label(), _exit_text(code), lived, child.quick_exits, delay,
                  hint)
        return delay

    def stop(self) -> int:
        """Stop every live child: SIGTERM, then SIGKILL on a second signal or at the timeout."""
        live = [c for c in self.children if c.alive]
        already = len(self.signals)
        if already:
            say(f"received {_signal_name(self.signals[0])}: stopping {len(live)} process(es) "
                f"gracefully; Ctrl-C again to kill now")
        for child in live:
            child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.shutdown_timeout_s
        next_note = time.monotonic() + NOTE_EVERY_S
        while live := [c for c in live if c.alive]:
            now = time.monotonic()
            if len(self.signals) >= (2 if already else 1):
                return self._kill(live, f"received {_signal_name(self.signals[-1])} again")
            if now >= deadline:
                return self._kill(live, f"not stopped after {self.shutdown_timeout_s:.0f}s")
            if now >= next_note:
                next_note = now + NOTE_EVERY_S
                waiting = ", ".join(f"{c.label()} {c.stop_note}" for c in live)
                say(f"waiting for {waiting}; Ctrl-C again to kill now")
            time.sleep(0.1)
        return 0

    def _kill(self, live: list[Child], why: str) -> int:
        for child in live:
            child.kill_group()
        for child in live:
            child.proc.wait()
        say(f"{why}: killed {', '.join(c.label() for c in live)} (the messages they held "
            f"are requeued by the broker's crash recovery)")
        return 1


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {_signal_name(-code)}"
    return f"code {code}"
