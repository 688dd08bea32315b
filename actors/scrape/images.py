"""``index_images``: send the logo and product images a scrape found to the GPU pool."""

from __future__ import annotations

import time
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
    """Validate, store and queue each image as an ``image`` job; invalid ones are skipped."""
    from actors.embed.blobs import BlobStore
    from actors.embed.images import validate_image
    from actors.embed.model import model_id_for
    from actors.embed.records import QUEUED, ImageRecords
    from actors.index.collections import point_id
    from pools.errors import PermanentError
    from pools.service import JobService

    service = JobService(settings, broker)
    blobs, records = BlobStore(settings.clip.images.blob_dir), ImageRecords(service.store.redis)
    image_ids, items = [], []
    for url, data, product in fetched:
        try:
            info = validate_image(data, settings.clip.images, name=url)
        except PermanentError:
            continue
        ref = blobs.put(data)
        image_id = point_id(ref.key, model_id_for(settings.clip))
        doc = {"product_id": None, "name": product or domain, "description": None,
               "metadata": {"domain": domain, "source_url": url}, "blob_key": ref.key,
               "created_ts": time.time()}
        records.put(image_id, status=QUEUED, filename=url, format=info.format,
                    width=info.width, height=info.height, **doc)
        items.append({"image_id": image_id, "blob_key": ref.key, "doc": doc})
        image_ids.append(image_id)
    if items:
        job = service.submit("embed_images", kind="images", args=(items,),
                             summary={"images": image_ids, "domain": domain}).job
        for image_id in image_ids:
            records.put(image_id, job_id=job["id"])
    return image_ids
