"""The job lifecycle: every state, every allowed move, and the one "a job finished" hook.

    queued ──start──▶ running ──succeed──▶ succeeded
      ▲  ╲              │ ╲────fail──────▶ failed ─┐
      │   ╲             │  ╲───die───────▶ dead ───┤ requeue (retry API, dead letters)
      │    cancel       │   ╲──stop──────▶ cancelled
      │     ╲           retry_later
      │      ▼          ▼
      │   cancelled   retrying ──start──▶ running
      └── interrupt (a worker stopped past its grace) / recover (the reconciler)

A batch parent never runs itself: ``open`` when its first child starts, ``settle_*`` when its
last child finishes, ``reopen`` when a finished child is run again.

``EVENTS`` is the only table of allowed moves: the store's Lua script is generated from it
(``lua_table``), so the store, the middleware, the API and the reconciler all obey the same
rules. A move not in the table is refused and leaves the record untouched.

Every move into a terminal state — in a worker, in the API (cancel) or in the reconciler —
calls the hooks registered with ``on_finished`` exactly once (the move that landed it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

QUEUED, RUNNING, RETRYING = "queued", "running", "retrying"
SUCCEEDED, FAILED, DEAD, CANCELLED = "succeeded", "failed", "dead", "cancelled"
STATUSES = (QUEUED, RUNNING, RETRYING, SUCCEEDED, FAILED, DEAD, CANCELLED)
ACTIVE = (QUEUED, RUNNING, RETRYING)
TERMINAL = frozenset({SUCCEEDED, FAILED, DEAD, CANCELLED})


@dataclass(frozen=True)
class Move:
    sources: tuple[str, ...]
    target: str
    why: str
    attempt: bool = False  # the move starts one more run of the job
    #: The move made instead when the record's cancel flag is set (checked in the same step).
    if_cancelled: str = ""


EVENTS: dict[str, Move] = {
    # A worker and its middleware.
    "start": Move(ACTIVE, RUNNING, "a worker took the message (again, after a crash)",
                  attempt=True, if_cancelled="stop"),
    "succeed": Move((RUNNING,), SUCCEEDED, "the actor returned and its result is stored",
                    if_cancelled="stop"),
    "fail": Move((RUNNING,), FAILED, "a permanent error: retrying cannot help"),
    "retry_later": Move((RUNNING,), RETRYING, "a transient error with retries left"),
    "die": Move((RUNNING,), DEAD, "a transient error with no retries left"),
    "expire": Move(ACTIVE, DEAD, "the message outlived its age limit"),
    "stop": Move(ACTIVE, CANCELLED, "the worker saw the cancel flag"),
    "interrupt": Move((RUNNING,), QUEUED, "the worker stopped past its grace; message requeued"),
    # The API.
    "cancel": Move((QUEUED, RETRYING), CANCELLED, "cancelled before it ran (again)"),
    "requeue": Move((FAILED, DEAD), QUEUED, "retried through the API or from dead letters"),
    # The reconciler: a record whose message no longer exists anywhere.
    "recover": Move(ACTIVE, QUEUED, "its message was lost; re-enqueued from the record"),
    "lose": Move(ACTIVE, DEAD, "its message was lost and no retries remain"),
    # Batch parents, moved by their children.
    "open": Move((QUEUED,), RUNNING, "a batch's first child started"),
    "reopen": Move((SUCCEEDED, FAILED, DEAD), RUNNING, "a finished child runs again"),
    "settle_ok": Move(ACTIVE, SUCCEEDED, "every child finished, at least one succeeded"),
    "settle_failed": Move(ACTIVE, FAILED, "every child finished, none succeeded"),
    "settle_cancelled": Move(ACTIVE, CANCELLED, "every child finished after a cancel"),
}


#: What the "finished" hooks receive of a record (and what the move script returns for it):
#: enough for metrics and a webhook, never the stored message or result.
SUMMARY_FIELDS = ("id", "kind", "status", "attempts", "created_at", "started_at", "finished_at",
                  "parent_id", "progress", "error_type", "error_message", "callback_url",
                  "children_total", "queue")


def allowed(event: str, status: str | None) -> bool:
    return status in EVENTS[event].sources


def lua_table() -> str:
    """``EVENTS`` and ``TERMINAL`` as Lua source, for the store's transition script.

    ``EVENT(name)`` builds the one move it is asked for: a script's locals are built anew on
    every call, and building the whole table each time cost more than several Redis
    commands (``bench/queue``, issue #13)."""
    branches = []
    for i, (name, move) in enumerate(EVENTS.items()):
        sources = ", ".join(f"{s} = true" for s in move.sources)
        attempt = "true" if move.attempt else "false"
        branches.append(f"  {'if' if i == 0 else 'elseif'} name == '{name}' then return "
                        f"{{to = '{move.target}', attempt = {attempt}, "
                        f"if_cancelled = '{move.if_cancelled}', from = {{{sources}}}}}")
    terminal = ", ".join(f"{s} = true" for s in sorted(TERMINAL))
    summary = ", ".join(f"'{f}'" for f in SUMMARY_FIELDS)
    return ("local function EVENT(name)\n" + "\n".join(branches) + "\n  end\nend\n"
            f"local TERMINAL = {{{terminal}}}\n"
            f"local function SUMMARY() return {{{summary}}} end\n")


# -- "a job finished" ---------------------------------------------------------------------
FinishedHook = Callable[[Any, dict[str, Any]], None]
_finished: dict[str, FinishedHook] = {}


def on_finished(name: str, hook: FinishedHook) -> None:
    """Register (or replace) the hook ``name``: called with ``(store, record)`` once per job
    that reaches a terminal state, wherever that happened; ``record`` holds the job's
    ``SUMMARY_FIELDS``."""
    _finished[name] = hook


def emit_finished(store: Any, record: dict[str, Any]) -> None:
    for name, hook in list(_finished.items()):
        try:
            hook(store, record)
        except Exception:  # a metrics or webhook hiccup must not undo the job's outcome
            log.exception("finished hook %r failed for job %s", name, record.get("id"))
