"""The maintenance actors that schedules fixed in code start (``pools.scheduling.code`` names
them and their cron lines). ``repertory scheduler`` sends them: one leader among any number of
schedulers, each tick once (``pools.scheduling``), so they need no lock of their own."""

from __future__ import annotations

import logging
import time

import dramatiq

from config.queues import SCHEDULE
from config.settings import get_settings

log = logging.getLogger(__name__)

INCOMPLETE_BATCH_S = 600  # a batch is queued in one request: one still short after this failed


@dramatiq.actor(queue_name=SCHEDULE, max_retries=0)
def cleanup() -> int:
    """Drop index entries of expired job records; abandon batches whose enqueue failed."""
    from pools.service import JobService

    settings = get_settings()
    service = JobService(settings, dramatiq.get_broker())
    removed = service.store.prune_indexes(older_than_s=settings.jobs.record_ttl_s)
    swept = service.sweep_incomplete_batches(older_than_s=INCOMPLETE_BATCH_S)
    log.info("cleanup removed %d stale index entries, abandoned %d incomplete batches",
             removed, swept)
    return removed + swept


@dramatiq.actor(queue_name=SCHEDULE, max_retries=0)
def reindex() -> bool | str:
    """Start a blue/green reindex when the configured model is not the live collection's (the
    clip settings changed); otherwise ask the index owner to optimize (build HNSW segments
    for) the live collection."""
    from actors.embed.model import model_id_for
    from actors.index import reindex as bluegreen
    from actors.index.actor import optimize_index
    from pools.service import JobService

    settings = get_settings()
    service = JobService(settings, dramatiq.get_broker())
    if bluegreen.wanted(service.store.redis, model_id_for(settings.clip)):
        try:
            return bluegreen.start(service, settings, reason="model settings changed"
                                   ).job["id"]
        except bluegreen.ReindexConflict:
            return False  # one is running already
    optimize_index.send()
    return True


@dramatiq.actor(queue_name=SCHEDULE, max_retries=0)
def rescrape() -> int:
    """Re-scrape domains whose record is older than ``rescrape_after_days``."""
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
