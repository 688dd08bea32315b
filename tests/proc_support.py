"""Process trees and ports, read from ``/proc`` (Linux): what a stack left running.

Import as ``from proc_support import ...`` (``tests/`` is on ``sys.path``).
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from pathlib import Path

import pytest

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # the command name may hold spaces and parens
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """Running or sleeping: a zombie (dead, not yet reaped) does not count."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def parents() -> dict[int, int]:
    found = {}
    for pid in _pids():
        stat = _stat(pid)
        if stat is not None:
            found[pid] = stat[1]
    return found


def descendants(root: int) -> set[int]:
    """Every live process below ``root``, following ppid links."""
    links = parents()
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in links.items() if ppid in frontier} - found
        found |= frontier
    return {pid for pid in found if alive(pid)}


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def new_mark() -> dict[str, str]:
    """An environment variable every process of one stack inherits, orphans included."""
    return {"STACK_TEST_MARK": uuid.uuid4().hex}


def marked(mark: dict[str, str]) -> set[int]:
    """Live processes anywhere on the machine carrying ``mark`` in their environment."""
    needle = "".join(f"{k}={v}" for k, v in mark.items()).encode()
    found = set()
    for pid in _pids():
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and alive(pid):
            found.add(pid)
    return found


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0
