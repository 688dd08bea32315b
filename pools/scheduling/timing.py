"""A schedule's ticks, pure: the next one after a time, and what is due at ``now``.

Times are integer milliseconds since the epoch. An ``every_s`` schedule ticks at
``anchor + k × period`` (k ≥ 1; the anchor is its creation, or when a scheduler first saw a code
schedule); a cron schedule at its cron line's times in its time zone (DST handled by croniter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from pools.scheduling.model import Schedule

#: At most this many missed ticks are counted one by one (a per-minute cron down for a year).
COUNT_CAP = 10_000
#: At most this many on-time ticks are sent in one pass (a 1 s schedule after a long stall).
ON_TIME_CAP = 1_000


def tick_after(schedule: Schedule, anchor_ms: int, after_ms: int) -> int:
    """The first tick strictly after ``after_ms``."""
    if schedule.every_s is not None:
        period = _period_ms(schedule)
        k = max(1, (after_ms - anchor_ms) // period + 1)
        return anchor_ms + k * period
    return _cron_ms(schedule, after_ms, forward=True)


def tick_at_or_before(schedule: Schedule, anchor_ms: int, at_ms: int) -> int | None:
    """The last tick at or before ``at_ms`` (None before the first)."""
    if schedule.every_s is not None:
        period = _period_ms(schedule)
        k = (at_ms - anchor_ms) // period
        return anchor_ms + k * period if k >= 1 else None
    tick = _cron_ms(schedule, at_ms + 1, forward=False)
    return tick if tick > anchor_ms else None


@dataclass
class Plan:
    """What a leader does for one schedule at ``now``.

    ``late``: ticks older than the misfire grace that were never sent (no scheduler ran), the
    last of them in ``late_last``: the schedule's ``missed`` policy applies to them as a whole.
    ``on_time``: ticks within the grace, each sent on its own.
    """

    late: int = 0
    late_last: int | None = None
    on_time: list[int] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.late and not self.on_time


def plan(schedule: Schedule, anchor_ms: int, last_ms: int | None, now_ms: int,
         grace_ms: int) -> Plan:
    """The ticks in ``(last, now]`` (``last``: the last tick handled, or the anchor)."""
    last = anchor_ms if last_ms is None else max(last_ms, anchor_ms)
    boundary = now_ms - grace_ms
    out = Plan()
    if boundary > last:
        out.late_last = tick_at_or_before(schedule, anchor_ms, boundary)
        if out.late_last is not None and out.late_last > last:
            out.late = count_ticks(schedule, anchor_ms, last, out.late_last)
        else:
            out.late_last = None
    tick = tick_after(schedule, anchor_ms, max(last, boundary))
    while tick <= now_ms and len(out.on_time) < ON_TIME_CAP:
        out.on_time.append(tick)
        tick = tick_after(schedule, anchor_ms, tick)
    return out


def count_ticks(schedule: Schedule, anchor_ms: int, after_ms: int, upto_ms: int) -> int:
    """Ticks in ``(after, upto]``, counted up to :data:`COUNT_CAP`."""
    if schedule.every_s is not None:
        period = _period_ms(schedule)
        return max(0, (upto_ms - anchor_ms) // period - max(0, (after_ms - anchor_ms) // period))
    count, tick = 0, tick_after(schedule, anchor_ms, after_ms)
    while tick <= upto_ms and count < COUNT_CAP:
        count += 1
        tick = tick_after(schedule, anchor_ms, tick)
    return count


def next_run(schedule: Schedule, anchor_ms: int, last_ms: int | None, now_ms: int,
             grace_ms: int) -> int:
    """When the schedule next sends: now when ticks are due, else its next tick."""
    due = plan(schedule, anchor_ms, last_ms, now_ms, grace_ms)
    if due.on_time or (due.late and schedule.missed == "run_once"):
        return now_ms
    last = anchor_ms if last_ms is None else max(last_ms, anchor_ms)
    return tick_after(schedule, anchor_ms, max(last, now_ms))


def _period_ms(schedule: Schedule) -> int:
    return max(1, round(schedule.every_s * 1000))


def _cron_ms(schedule: Schedule, at_ms: int, *, forward: bool) -> int:
    from croniter import croniter

    start = datetime.fromtimestamp(at_ms / 1000, ZoneInfo(schedule.timezone))
    it = croniter(schedule.cron, start)
    when = it.get_next(datetime) if forward else it.get_prev(datetime)
    return round(when.timestamp() * 1000)
