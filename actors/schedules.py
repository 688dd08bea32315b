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


INCOMPLETE_BATCH_S = 600  # a batch is queued in one request: one still short after this failed


@dramatiq.actor(queue_name=SCHEDULE, periodic=cron(_schedules.cleanup_cron), max_retries=0)
def cleanup() -> int:
    """Drop index entries of expired job records; abandon batches whose enqueue failed."""
    if not claim_slot("cleanup", 60):
        return 0
    from pools.service import JobService

    settings = get_settings()
    service = JobService(settings, dramatiq.get_broker())
    removed = service.store.prune_indexes(older_than_s=settings.jobs.record_ttl_s)
    swept = service.sweep_incomplete_batches(older_than_s=INCOMPLETE_BATCH_S)
    log.info("cleanup removed %d stale index entries, abandoned %d incomplete batches",
             removed, swept)
    return removed + swept


@dramatiq.actor(queue_name=SCHEDULE, periodic=cron(_schedules.reindex_cron), max_retries=0)
def reindex() -> bool:
    """Ask the index owner to optimize (build HNSW segments for) the image collection."""
    if not claim_slot("reindex", 60):
        return False
    from actors.index.actor import optimize_index

    optimize_index.send()
    return True


@dramatiq.actor(queue_name=SCHEDULE, periodic=cron(_schedules.rescrape_cron), max_retries=0)
def rescrape() -> int:
    """Re-scrape domains whose record is older than ``rescrape_after_days``."""
    if not claim_slot("rescrape", 60):
        return 0
    from actors.scrape.actor import DOMAINS_INDEX
    from pools.service import JobService

    settings = get_settings()
    service = JobService(settings, dramatiq.get_broker())
    cutoff = time.time() - settings.schedules.rescrape_after_days * 86_400
    stale = [d.decode() for d in service.store.redis.zrangebyscore(DOMAINS_INDEX, 0, cutoff,
                                                                    start=0, num=1000)]
    if stale:
        service.submit_batch("scrape_domain", kind="scrape-batch", child_kind="scrape",
                             items=[((d,), {"refresh": True}) for d in stale],
                             summary={"domains": len(stale), "reason": "rescrape"},
                             child_summaries=[{"domain": d} for d in stale])
    return len(stale)
