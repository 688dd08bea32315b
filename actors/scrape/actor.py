"""The ``scrape_domain`` actor: one domain per job, typed outcomes, a reusable record cache."""

from __future__ import annotations

import json
import time
from typing import Any

import dramatiq

from config.queues import PREFIX, SCRAPE
from config.settings import get_settings
from pools import context
from pools.middleware import resources

_s = get_settings().scrape
RECORD_KEY = PREFIX + ":scrape:record:{}"
DOMAINS_INDEX = PREFIX + ":scrape:domains"


def _runtime() -> Any:
    from actors.scrape.runtime import ScrapeRuntime

    return ScrapeRuntime(get_settings())


resources.register("scrape", _runtime, queues=[SCRAPE])


@dramatiq.actor(queue_name=SCRAPE, actor_name="scrape_domain", store_results=True,
                max_retries=_s.max_retries, min_backoff=_s.min_backoff_ms,
                time_limit=int(_s.domain_deadline_s * 1000) + 30_000)
def scrape_domain_job(domain: str, max_pages: int = 5, refresh: bool = False,
                      index_images: bool = False) -> dict[str, Any]:
    from actors.scrape.outcomes import job_error

    redis = context.store().redis
    if not refresh and (cached := _cached(redis, domain)) is not None:
        return cached
    result = resources.get("scrape").scrape(domain, max_pages, context.cancel_checker())
    error = job_error(result.outcome, result.error or result.outcome.value)
    if error is not None:
        raise error
    data = result.model_dump(mode="json") | {"cached": False, "scraped_at": time.time()}
    _remember(redis, domain, data)
    if index_images and data.get("record"):
        data["image_ids"] = _index_images(domain, data["record"])
    return data


def _index_images(domain: str, record: dict[str, Any]) -> list[str]:
    from actors.scrape.images import image_urls, submit_images

    settings = get_settings()
    wanted = image_urls(record, settings.scrape.max_images_per_domain)
    got = resources.get("scrape").fetch_images([u for u, _ in wanted],
                                               settings.clip.images.max_bytes)
    names = dict(wanted)
    return submit_images(settings, dramatiq.get_broker(), domain,
                         [(url, data, names.get(url)) for url, data in got])


def _cached(redis: Any, domain: str) -> dict[str, Any] | None:
    if get_settings().scrape.cache_days <= 0:
        return None
    raw = redis.get(RECORD_KEY.format(domain))
    return json.loads(raw) | {"cached": True} if raw else None


def _remember(redis: Any, domain: str, data: dict[str, Any]) -> None:
    ttl = int(get_settings().scrape.cache_days * 86_400)
    if ttl > 0:
        redis.set(RECORD_KEY.format(domain), json.dumps(data), ex=ttl)
    redis.zadd(DOMAINS_INDEX, {domain: time.time()})
