"""The scheduler loop (``repertory scheduler``): code and user schedules, one leader sends.

Every poll each scheduler calls :meth:`LeaderLease.hold`. A standby sleeps until the lease
could have expired (at most ``poll_s``) and tries again. The leader reloads the schedules when
their version moved, then for each schedule with due ticks records each tick with the fenced
claim (``ledger.CLAIM_LUA``) and submits its job with an idempotency key made from the tick.
Ticks older than ``misfire_grace_s`` (no scheduler ran) follow the schedule's ``missed``
policy: ``skip`` records one ``skipped`` run for all of them; ``run_once`` sends one
``catch_up`` run for all of them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from config.settings import ScheduleSettings
from pools.scheduling.lease import LeaderLease
from pools.scheduling.ledger import Ledger, new_run
from pools.scheduling.model import Schedule
from pools.scheduling.store import ScheduleStore
from pools.scheduling.timing import plan, tick_after

log = logging.getLogger("repertory.scheduler")

#: ``submit(schedule, idempotency_key)`` → the id of the job it started.
Submit = Callable[[Schedule, str], str]


class Fenced(Exception):
    """Our token was refused: another scheduler leads now."""


def idempotency_key(schedule: Schedule, planned_ms: int) -> str:
    return f"schedule:{schedule.name}:{schedule.created_ms}:{planned_ms}"


class Runner:
    def __init__(self, client: Any, settings: ScheduleSettings, code: dict[str, Schedule],
                 submit: Submit, holder: str | None = None) -> None:
        self.settings = settings
        self.lease = LeaderLease(client, round(settings.leader_lease_s * 1000), holder)
        self.ledger = Ledger(client, settings.ledger_size)
        self.store = ScheduleStore(client)
        self.code = code
        self.submit = submit
        self.grace_ms = round(settings.misfire_grace_s * 1000)
        self.token = 0
        self.version: int | None = None
        self.schedules: dict[str, Schedule] = {}
        self.state: dict[str, dict[str, Any]] = {}
        self.due_at: dict[str, int] = {}
        self.renewed_at = 0.0
        self._standby_s = settings.poll_s

    @property
    def holder(self) -> str:
        return self.lease.holder

    def run(self, stop: threading.Event) -> None:
        log.info("scheduler %s: %d code schedule(s), lease %.1f s", self.holder,
                 len(self.code), self.settings.leader_lease_s)
        try:
            while not stop.is_set():
                stop.wait(self._step_safely())
        finally:
            self._release()

    def _step_safely(self) -> float:
        try:
            return self.step()
        except redis.RedisError as exc:
            log.warning("scheduler: Redis unavailable (%s); trying again", exc)
            return self.settings.poll_s

    def step(self) -> float:
        """One pass; how long to sleep before the next."""
        if not self._hold():
            return self._standby_s
        now = self.store.now_ms()
        self._refresh(now)
        try:
            for schedule in list(self.schedules.values()):
                self._tick(schedule, now)
            self._recover(now)
        except Fenced:
            log.warning("scheduler %s: token %d refused, another scheduler leads; standing by",
                        self.holder, self.token)
            self.token = 0
            return self.settings.poll_s
        return self._sleep_s(self.store.now_ms())

    # -- the lease ----------------------------------------------------------------------------
    def _hold(self) -> bool:
        hold = self.lease.hold()
        self.renewed_at = time.monotonic()
        if not hold.leading:
            if self.token:
                log.warning("scheduler %s: lost the lease (token %d)", self.holder, self.token)
            self.token = 0
            self._standby_s = min(self.settings.poll_s, max(hold.ms_left, 10) / 1000)
            return False
        if hold.token != self.token:
            log.info("scheduler %s: leading (token %d)", self.holder, hold.token)
            self.token, self.version = hold.token, None  # reload everything
        return True

    def _keep_lease(self) -> None:
        """Extend the lease during a long pass (many due ticks); stop at once if it is gone."""
        if time.monotonic() - self.renewed_at > self.settings.leader_lease_s / 3:
            token = self.token
            if not self._hold() or self.token != token:
                raise Fenced

    def _release(self) -> None:
        if self.token:
            try:
                self.lease.release(self.token)
                log.info("scheduler %s: released the lease", self.holder)
            except redis.RedisError:
                pass

    # -- schedules ----------------------------------------------------------------------------
    def _refresh(self, now: int) -> None:
        version = self.store.version()
        if version == self.version:
            return
        schedules = {**self.store.user_schedules(), **self.code}
        state = self.store.states(list(schedules))
        for name, schedule in schedules.items():
            if state[name]["anchor_ms"] is None:
                state[name]["anchor_ms"] = (schedule.created_ms if schedule.origin == "user"
                                            else self.store.ensure_anchor(name, now))
        self.schedules, self.state, self.due_at, self.version = schedules, state, {}, version

    def _tick(self, schedule: Schedule, now: int) -> None:
        state = self.state[schedule.name]
        if state["paused"] or self.due_at.get(schedule.name, 0) > now:
            return
        due = plan(schedule, state["anchor_ms"], state["last_planned_ms"], now, self.grace_ms)
        if due.late_last is not None and not self._missed(schedule, due.late_last, due.late,
                                                          now):
            return
        for tick in due.on_time:
            entry = new_run(tick / 1000, "tick")
            if not self._claim(schedule, entry, now):
                return
            self._send(schedule, entry)
        last = max(state["last_planned_ms"] or 0, state["anchor_ms"], now)
        self.due_at[schedule.name] = tick_after(schedule, state["anchor_ms"], last)

    def _missed(self, schedule: Schedule, last_tick: int, count: int, now: int) -> bool:
        skip = schedule.missed == "skip"
        entry = new_run(last_tick / 1000, "missed" if skip else "catch_up", missed=count,
                        state="skipped" if skip else "claimed")
        if not self._claim(schedule, entry, now):
            return False
        log.warning("schedule %s: %d tick(s) missed while no scheduler ran, up to %s: %s",
                    schedule.name, count, time.strftime("%Y-%m-%d %H:%M:%S",
                                                        time.gmtime(last_tick / 1000)),
                    "skipped" if skip else "running once")
        if not skip:
            self._send(schedule, entry)
        return True

    def _claim(self, schedule: Schedule, entry: dict[str, Any], now: int) -> bool:
        self._keep_lease()
        planned_ms = round(entry["planned"] * 1000)
        entry |= {"holder": self.holder, "token": self.token, "claimed_at": now / 1000,
                  "key": idempotency_key(schedule, planned_ms)}
        result = int(self.ledger.claim(schedule.name, self.token, entry,
                                       user=schedule.origin == "user",
                                       anchor_ms=self.state[schedule.name]["anchor_ms"]))
        if result == -1:
            raise Fenced
        if result == 1:
            self.state[schedule.name]["last_planned_ms"] = planned_ms
            return True
        self.version = None  # handled already, deleted or paused meanwhile: reload
        return False

    def _send(self, schedule: Schedule, entry: dict[str, Any]) -> None:
        try:
            job_id = self.submit(schedule, entry["key"])
        except redis.RedisError:
            raise  # the run stays claimed (unsent): sent again by _recover
        except Exception as exc:  # the job was refused (its body no longer valid, …)
            message = getattr(exc, "message", None) or str(exc)
            entry |= {"state": "error", "error": f"{type(exc).__name__}: {message}"[:500]}
            log.warning("schedule %s: run %s not sent: %s", schedule.name, entry["id"],
                        entry["error"])
        else:
            entry |= {"state": "sent", "job_id": job_id, "sent": time.time()}
            log.info("schedule %s: %s %s sent as job %s", schedule.name, entry["trigger"],
                     entry["id"], job_id)
        self.ledger.mark(schedule.name, entry)

    def _recover(self, now: int) -> None:
        """Send runs a leader claimed but did not send (it died in between)."""
        for name, run_id in self.store.unsent():
            schedule, entry = self.schedules.get(name), self.store.run(name, run_id)
            if schedule is None or entry is None or entry["state"] != "claimed":
                self.store.forget_unsent(name, run_id)
                continue
            if now / 1000 - entry.get("claimed_at", 0) < self.settings.leader_lease_s:
                continue  # its sender may still be at it
            log.warning("schedule %s: run %s was claimed by %s but not sent; sending it",
                        name, run_id, entry.get("holder"))
            entry["recovered_by"] = self.holder
            self._keep_lease()
            self._send(schedule, entry)

    def _sleep_s(self, now: int) -> float:
        wake = min(self.due_at.values(), default=now + 3_600_000)
        longest = min(self.settings.poll_s, self.settings.leader_lease_s / 3)
        return min(longest, max(0.01, (wake - now) / 1000))
