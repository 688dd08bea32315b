"""Index-queue actors: upsert vectors (batched), search, similar, delete, stats, optimize.

With an embedded store (Qdrant Edge or local mode) only one process may open it: the one
consuming queue ``index``. Every other process (the gpu pool, the API) reaches the index
through these actors. With a Qdrant server (``QDRANT_URL``) the gpu pool upserts directly.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from config.queues import BULK, INDEX, INDEX_QUERY, INTERACTIVE
from config.settings import get_settings
from pools import context
from pools.middleware import resources


def embed_dim(clip: Any) -> int:
    """The architecture's embedding width, read from its open_clip config (no weights)."""
    import open_clip

    if clip.model_config_dir.is_dir():
        open_clip.add_model_config(clip.model_config_dir)
    config = open_clip.get_model_config(clip.model_name)
    if config is None:
        raise ValueError(f"unknown open_clip architecture {clip.model_name!r}")
    return int(config["embed_dim"])


class _IndexRuntime:
    """The vector store of this process, its image collection and an upsert batcher."""

    def __init__(self) -> None:
        from actors.embed.batcher import DynamicBatcher
        from actors.embed.model import model_id_for
        from actors.index.collections import ImageIndex
        from actors.index.factory import open_store

        settings = get_settings()
        q = settings.qdrant
        self.store = open_store(q)
        self.index = ImageIndex(self.store, model_id=model_id_for(settings.clip),
                                dim=embed_dim(settings.clip), alias=q.alias,
                                prefix=q.collection_prefix, upsert_batch=q.upsert_batch,
                                optimize_after=q.optimize_after)
        self.index.ensure()
        self.batcher = DynamicBatcher(self._upsert, max_batch=q.upsert_batch, max_wait_ms=20,
                                      name="upsert-batcher")

    def _upsert(self, items: list[tuple[Any, list[float]]]) -> list[str]:
        return self.index.upsert([doc for doc, _ in items], [vec for _, vec in items])

    def upsert_many(self, items: list[tuple[dict[str, Any], list[float]]]) -> list[str]:
        """Upsert through the batcher (batched with other threads' points); wait for all."""
        from actors.index.collections import ImageDoc

        futures = self.batcher.submit_many((ImageDoc(**doc), vec) for doc, vec in items)
        return [f.result(timeout=120) for f in futures]

    def close(self) -> None:
        self.batcher.close()
        self.store.close()


resources.register("index", _IndexRuntime, queues=[INDEX_QUERY, INDEX])


def embedded_store() -> bool:
    return get_settings().qdrant.mode != "server"


def deliver_vectors(items: list[dict[str, Any]]) -> None:
    """Hand vectors to the index: through queue ``index`` (embedded) or directly (server).

    ``items``: ``{"image_id", "doc", "vector"}``; one message carries them all.
    """
    if embedded_store():
        index_images.send(items)
    else:
        _index_now(items)


def _index_now(items: list[dict[str, Any]]) -> None:
    from actors.embed.records import INDEXED, ImageRecords

    points = resources.get("index").upsert_many([(i["doc"], i["vector"]) for i in items])
    records = ImageRecords(context.store().redis)
    for item, point in zip(items, points, strict=True):
        records.set_status(item["image_id"], INDEXED, point_id=point)


@dramatiq.actor(queue_name=INDEX, max_retries=5, priority=BULK)
def index_images(items: list[dict[str, Any]]) -> None:
    _index_now(items)


def _hits(hits: list[Any]) -> list[dict[str, Any]]:
    return [{"id": h.id, "score": h.score, "payload": h.payload} for h in hits]


@dramatiq.actor(queue_name=INDEX_QUERY, store_results=True, max_retries=0, time_limit=60_000,
                priority=INTERACTIVE)
def search_index(vector: list[float], limit: int = 10,
                 filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return _hits(resources.get("index").index.search(vector, limit, _filters(filters)))


@dramatiq.actor(queue_name=INDEX_QUERY, store_results=True, max_retries=0, time_limit=60_000,
                priority=INTERACTIVE)
def similar_images(image_id: str, limit: int = 10,
                   filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return _hits(resources.get("index").index.similar(image_id, limit, _filters(filters)))


@dramatiq.actor(queue_name=INDEX_QUERY, store_results=True, max_retries=3,
                priority=INTERACTIVE)
def delete_points(point_ids: list[str]) -> int:
    resources.get("index").index.delete(point_ids)
    return len(point_ids)


@dramatiq.actor(queue_name=INDEX_QUERY, store_results=True, max_retries=0, time_limit=60_000,
                priority=INTERACTIVE)
def index_stats() -> dict[str, Any]:
    return resources.get("index").index.stats()


@dramatiq.actor(queue_name=INDEX, max_retries=0, time_limit=3_600_000, priority=BULK)
def optimize_index() -> None:
    resources.get("index").index.optimize()


def _filters(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    """JSON filters → store filters: {"field": value | [values] | {"gte": a, "lte": b}}."""
    if not filters:
        return None
    from actors.index.store import Range

    return {k: Range(**v) if isinstance(v, dict) else v for k, v in filters.items()}
