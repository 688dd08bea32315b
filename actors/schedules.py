"""Periodic work, scheduled by periodiq (``periodiq actors`` runs the scheduler).

Each periodic actor takes a Redis lease for its time slot before doing anything, so running
two schedulers (say, one per replica) still runs every slot once: a cheap leader election
per slot instead of a single point of failure.
"""

from __future__ import annotations

import logging
import time

import dramatiq
from periodiq import cron

from config.queues import PREFIX, SCHEDULE
from config.settings import get_settings
from pools.broker import build_store

log = logging.getLogger(__name__)

_schedules = get_settings().schedules


def claim_slot(name: str, period_s: int) -> bool:
    """True for exactly one caller per ``name`` and time slot of ``period_s`` seconds."""
    store = build_store(get_settings())
    slot = int(time.time() // period_s)
    return bool(store.redis.set(f"{PREFIX}:schedule:{name}:{slot}", 1, nx=True,
                                ex=period_s * 2))


@dramatiq.actor(queue_name=SCHEDULE, periodic=cron(_schedules.cleanup_cron), max_retries=0)
def cleanup() -> int:
    """Drop index entries of expired job records."""
    if not claim_slot("cleanup", 60):
        return 0
    settings = get_settings()
    removed = build_store(settings).prune_indexes(older_than_s=settings.jobs.record_ttl_s)
    log.info("cleanup removed %d stale index entries", removed)
    return removed
