"""Process plumbing: children that die with their parent, and ports that must be free.

``PR_SET_PDEATHSIG`` (Linux) asks the kernel to send a signal to a process when its parent
dies, whatever killed the parent (SIGKILL included). We ask for SIGTERM, so a child whose
supervisor vanished still stops gracefully (workers requeue what they hold). The kernel sends
it when the *thread* that forked the child exits, not the process: start children from a
thread that lives as long as the process (the main thread). Elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import gc
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from typing import Any

PR_SET_PDEATHSIG = 1


@cache
def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


def set_parent_death_signal(sig: int = signal.SIGTERM) -> bool:
    """Have the kernel send ``sig`` to this process when its parent dies; False if unsupported."""
    prctl = _prctl()
    return prctl is not None and prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A ``preexec_fn``: the child gets ``sig`` when this process (this thread) dies.

    Everything it needs is resolved here, in the parent, before the fork. If the parent died
    between the fork and the ``prctl`` (no signal would ever come), the child exits at once.
    """
    _prctl()
    parent = os.getpid()

    def preexec() -> None:
        set_parent_death_signal(sig)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def popen(argv: list[str], **kwargs: Any) -> subprocess.Popen:
    """``subprocess.Popen`` in a session of its own, tied to this process's life.

    Own session: a terminal's Ctrl-C or hang-up reaches only the supervisor, which stops each
    child exactly once. ``start_new_session`` still applies with a ``preexec_fn``: the
    ``setsid()`` runs first, then the ``prctl``, then the ``exec``.
    """
    return subprocess.Popen(argv, start_new_session=True, preexec_fn=die_with_parent(),
                            **kwargs)


def port_in_use(host: str, port: int) -> bool:
    """True when a server could not bind ``host:port`` now (something listens there).

    ``SO_REUSEADDR`` like the servers we start (Valkey, uvicorn): a port left in TIME_WAIT by
    the previous run is free for them, one with a listener is not.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return False  # let the server report a bad host in its own words
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE  # other errors: the server reports them
    return False


def freeze_boot_objects() -> None:
    """Keep what start-up built (modules, the app, models, clients: it lives as long as the
    process) out of every later garbage collection, so a full one walks only what requests
    and jobs allocate. A full collection holds the GIL: before, it stopped an API for ~50 ms
    and a gpu worker with torch loaded for ~190 ms (``bench/gc_pause.py``)."""
    gc.collect()
    gc.freeze()
