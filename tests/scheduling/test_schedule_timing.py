"""Ticks of every_s and cron schedules, and what is due after a gap (pure, no Redis)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from pools.scheduling.model import JobSpec, Schedule, ScheduleSpec
from pools.scheduling.timing import count_ticks, next_run, plan, tick_after, tick_at_or_before

JOB = JobSpec(kind="diag")


def every(seconds: float, missed: str = "skip") -> Schedule:
    return Schedule(name="e", every_s=seconds, job=JOB, missed=missed)


def cron(line: str, tz: str = "UTC") -> Schedule:
    return Schedule(name="c", cron=line, timezone=tz, job=JOB)


def ms(tz: str, *parts: int) -> int:
    return round(datetime(*parts, tzinfo=ZoneInfo(tz)).timestamp() * 1000)


def test_an_every_schedule_ticks_whole_periods_after_its_anchor():
    s = every(10)
    assert tick_after(s, 1_000, 0) == 11_000  # the first tick is one period after the anchor
    assert tick_after(s, 1_000, 11_000) == 21_000  # strictly after
    assert tick_after(s, 1_000, 11_001) == 21_000
    assert tick_at_or_before(s, 1_000, 20_999) == 11_000
    assert tick_at_or_before(s, 1_000, 10_999) is None
    assert count_ticks(s, 1_000, 1_000, 51_000) == 5


def test_a_cron_schedule_is_read_in_its_time_zone_across_a_dst_change():
    s = cron("0 9 * * *", "Europe/Paris")  # Paris moves from UTC+1 to UTC+2 on 2024-03-31
    start = ms("UTC", 2024, 3, 30, 12, 0)
    first = tick_after(s, start, start)
    second = tick_after(s, start, first)
    assert first == ms("UTC", 2024, 3, 31, 7, 0)  # 09:00 CEST, the first summer morning
    assert tick_at_or_before(s, start, first - 1) is None
    assert second - first == 86_400_000
    winter = tick_at_or_before(s, ms("UTC", 2024, 3, 1), ms("UTC", 2024, 3, 30, 12, 0))
    assert winter == ms("UTC", 2024, 3, 30, 8, 0)  # 09:00 CET


def test_ticks_due_within_the_grace_are_each_sent_and_older_ones_are_counted_as_missed():
    s = every(1)
    due = plan(s, anchor_ms=0, last_ms=10_000, now_ms=20_500, grace_ms=3_000)
    assert due.late == 7 and due.late_last == 17_000  # 11 … 17 s: older than now - grace
    assert due.on_time == [18_000, 19_000, 20_000]
    assert plan(s, 0, 20_000, 20_500, 3_000).empty


def test_a_new_schedule_owes_nothing_before_its_first_tick():
    s = every(60)
    assert plan(s, anchor_ms=5_000, last_ms=None, now_ms=64_999, grace_ms=0).empty
    assert plan(s, anchor_ms=5_000, last_ms=None, now_ms=65_000, grace_ms=1_000).on_time == [
        65_000]


def test_next_run_is_now_while_ticks_are_owed_and_the_next_tick_otherwise():
    assert next_run(every(10), 0, 10_000, 15_000, 30_000) == 20_000
    assert next_run(every(10, "run_once"), 0, 10_000, 95_000, 30_000) == 95_000
    assert next_run(every(10, "skip"), 0, 10_000, 95_000, 1_000) == 100_000
    minute = cron("* * * * *")
    assert next_run(minute, 0, None, 80_000, 30_000) == 80_000  # the 60 s tick is owed
    assert next_run(minute, 0, None, 90_500, 30_000) == 120_000  # … missed (skip): the next
    assert next_run(minute, 0, 60_000, 90_500, 30_000) == 120_000


@pytest.mark.parametrize(("fields", "where"), [
    ({"cron": "61 * * * *"}, "cron"),
    ({"cron": "* * * * * *"}, "cron"),  # six fields: seconds are not offered
    ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "timezone"),
    ({"every_s": 0.5}, "every_s"),
    ({}, ""),
    ({"cron": "* * * * *", "every_s": 5}, ""),
    ({"cron": "@hourly", "name": "Bad Name"}, "name"),
])
def test_a_bad_schedule_is_refused_naming_the_field(fields, where):
    with pytest.raises(ValidationError) as info:
        ScheduleSpec.model_validate({"name": "ok", "job": {"kind": "diag"}} | fields)
    locations = {".".join(map(str, e["loc"])) for e in info.value.errors()}
    assert where in locations, locations
