"""``repertory scheduler``: code and user schedules; any number may run, one leader sends."""

from __future__ import annotations

import logging
import signal
import threading

from config.settings import Settings

log = logging.getLogger("repertory.scheduler")


def run_scheduler(settings: Settings) -> int:
    import actors  # builds the broker and declares every actor the schedules start
    from api.job_kinds import submit_job
    from pools.broker import redis_client
    from pools.scheduling.code import code_schedules
    from pools.scheduling.model import Schedule
    from pools.scheduling.runner import Runner
    from pools.service import JobService

    service = JobService(settings, actors.broker)

    def submit(schedule: Schedule, key: str) -> str:
        if schedule.origin == "code":
            return service.submit(schedule.actor, kind=schedule.job.kind, idempotency_key=key,
                                  summary={"schedule": schedule.name}).job["id"]
        return submit_job(service, settings, schedule.job.kind, schedule.job.body, key)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: stop.set())
    runner = Runner(redis_client(settings, socket_timeout=10), settings.schedules,
                    code_schedules(settings), submit)
    runner.run(stop)
    return 0
