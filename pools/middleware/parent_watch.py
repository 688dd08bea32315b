"""A Dramatiq worker process stops when its ``dramatiq`` parent dies.

``dramatiq`` forks its worker processes; killed with SIGKILL, the parent cannot tell them to
stop, and an orphan would keep consuming next to the fresh instance the supervisor starts.
Each worker process therefore asks the kernel for SIGTERM when its parent dies
(``PR_SET_PDEATHSIG``), then checks its parent is still the one it booted under (one that died
before the request sends nothing); where there is no ``prctl`` a thread polls ``getppid()``
every second instead. Never both: a second SIGTERM makes Dramatiq's worker process exit at once
instead of finishing its messages. SIGTERM is Dramatiq's own graceful stop for a worker
process: it finishes or requeues what it holds. Only forked (multiprocessing) processes are
watched: a worker running inside the main process (tests, embedding) is left alone.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from typing import Any

from dramatiq.middleware import Middleware

from pools.procs import set_parent_death_signal

log = logging.getLogger(__name__)


class ParentWatch(Middleware):
    def __init__(self, interval_s: float = 1.0) -> None:
        self.interval_s = interval_s
        self._stop = threading.Event()

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        parent = multiprocessing.parent_process()
        if parent is None or parent.pid is None:
            return
        boot_ppid = os.getppid()
        if boot_ppid != parent.pid and not _alive(parent.pid):
            _orphaned(parent.pid)  # died before we even booted
            return
        armed = set_parent_death_signal(signal.SIGTERM)
        if os.getppid() != boot_ppid:
            _orphaned(parent.pid)  # died before the kernel was asked: no signal will come
        elif not armed:
            # No prctl here: poll instead (see the module docstring for why not both).
            self._stop.clear()
            threading.Thread(target=self._watch, args=(parent.pid, boot_ppid),
                             name="parent-watch", daemon=True).start()

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self._stop.set()

    def _watch(self, parent: int, boot_ppid: int) -> None:
        while not self._stop.wait(self.interval_s):
            if os.getppid() != boot_ppid:
                _orphaned(parent)
                return


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _orphaned(parent: int) -> None:
    log.warning("dramatiq parent %d is gone; stopping worker process %d", parent, os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)
