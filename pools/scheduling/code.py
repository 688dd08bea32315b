"""The schedules fixed in code: maintenance actors of ``actors.schedules`` on cron lines from
settings (``REPERTORY_SCHEDULES__*_CRON``). They are listed, paused, resumed and run by hand like
user schedules, but not deleted; their jobs have the schedule's name as kind."""

from __future__ import annotations

from config.settings import Settings
from pools.scheduling.model import JobSpec, Schedule


def code_schedules(settings: Settings) -> dict[str, Schedule]:
    crons = settings.schedules
    table = (
        ("cleanup", crons.cleanup_cron, "cleanup"),
        ("reindex", crons.reindex_cron, "reindex"),
        ("rescrape", crons.rescrape_cron, "rescrape"),
    )
    return {name: Schedule(name=name, cron=cron, job=JobSpec(kind=name), missed="run_once",
                           origin="code", actor=actor)
            for name, cron, actor in table}
