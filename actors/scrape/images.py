"""``index_images``: send the logo and product images a scrape found to the GPU pool."""

from __future__ import annotations

from typing import Any

from config.settings import Settings


def image_urls(record: dict[str, Any], limit: int) -> list[tuple[str, str | None]]:
    """``(url, product name)`` for the logo, product images and page images, deduplicated."""
    found: list[tuple[str, str | None]] = []
    if record.get("logo"):
        found.append((record["logo"]["value"], None))
    for product in record.get("products", []):
        value = product["value"]
        found += [(url, value.get("name")) for url in value.get("images", [])]
    found += [(image["value"], None) for image in record.get("images", [])]
    seen: set[str] = set()
    unique = [(u, n) for u, n in found if u.startswith("http") and not (u in seen or seen.add(u))]
    return unique[:limit]


def submit_images(settings: Settings, broker: Any, domain: str,
                  fetched: list[tuple[str, bytes, str | None]]) -> list[str]:
    """Validate, store and queue the images as one ``images`` job; invalid ones are skipped."""
    from actors.embed.images import validate_image
    from actors.embed.ingest import store_image
    from actors.embed.records import ImageRecords
    from pools.errors import PermanentError
    from pools.service import JobService

    service = JobService(settings, broker)
    stored = []
    for url, data, product in fetched:
        try:
            info = validate_image(data, settings.clip.images, name=url)
        except PermanentError:
            continue
        doc = {"product_id": None, "name": product or domain, "description": None,
               "metadata": {"domain": domain, "source_url": url}}
        stored.append(store_image(settings.clip, service.store.redis, data, info, doc, url))
    image_ids = [s.image_id for s in stored]
    if stored:
        job = service.submit("embed_images", kind="images", args=([s.item() for s in stored],),
                             summary={"images": image_ids, "domain": domain}).job
        ImageRecords(service.store.redis).link_job(image_ids, job["id"])
    return image_ids
