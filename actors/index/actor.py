"""Index-queue actors: upsert vectors (batched), search, similar, delete, stats, optimize.

With an embedded store (Qdrant Edge or local mode) only one process may open it: the one
consuming queue ``index``. Every other process (the gpu pool, the API) reaches the index
through these actors. With a Qdrant server (``QDRANT_URL``) the gpu pool upserts directly.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from config.queues import BACKGROUND, BULK, INDEX, INDEX_QUERY, INTERACTIVE
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
    """The vector store of this process, its blue/green image collections and an upsert
    batcher."""

    def __init__(self) -> None:
        from actors.embed.batcher import DynamicBatcher
        from actors.index.bluegreen import BlueGreen
        from actors.index.factory import open_store
        from actors.index.models import spec_for
        from pools.broker import redis_client

        settings = get_settings()
        q = settings.qdrant
        self.store = open_store(q)
        self.images = BlueGreen(self.store, redis_client(settings),
                                spec_for(settings.clip, embed_dim(settings.clip)), alias=q.alias,
                                prefix=q.collection_prefix, upsert_batch=q.upsert_batch,
                                optimize_after=q.optimize_after)
        self.images.boot()
        self.batcher = DynamicBatcher(self._upsert, max_batch=q.upsert_batch, max_wait_ms=20,
                                      name="upsert-batcher")

    @property
    def index(self) -> Any:
        """The live collection's index."""
        return self.images.live()

    def _upsert(self, items: list[tuple[Any, list[float]]]) -> list[str]:
        by_model: dict[str | None, list[int]] = {}
        for position, (entry, _) in enumerate(items):
            by_model.setdefault(entry[0], []).append(position)
        ids: list[str] = [""] * len(items)
        for model_id, positions in by_model.items():
            got = self.images.upsert(model_id, [(items[p][0][1], items[p][0][2], items[p][1])
                                                for p in positions])
            for position, point in zip(positions, got, strict=True):
                ids[position] = point
        return ids

    def upsert_many(self, items: list[dict[str, Any]], model_id: str | None = None
                    ) -> list[str]:
        """Upsert ``{"image_id", "doc", "vector"}`` into ``model_id``'s collection through
        the batcher (batched with other threads' points); wait for all."""
        futures = self.batcher.submit_many(
            ((model_id, i.get("image_id"), i["doc"]), i["vector"]) for i in items)
        return [f.result(timeout=120) for f in futures]

    def close(self) -> None:
        self.batcher.close()
        self.store.close()


resources.register("index", _IndexRuntime, queues=[INDEX_QUERY, INDEX])


def embedded_store() -> bool:
    return get_settings().qdrant.mode != "server"


def deliver_vectors(items: list[dict[str, Any]], model_id: str | None = None,
                    reindex: dict[str, Any] | None = None) -> None:
    """Hand vectors to the index: through queue ``index`` (embedded) or directly (server).

    ``items``: ``{"image_id", "doc", "vector"}`` of ``model_id``'s embedding (one message
    carries them all); ``reindex``: ``{"job", "chunk"}`` when they fill a reindex's
    collection (the image records are not touched, the chunk is counted done).
    """
    if embedded_store():
        (reindex_images_chunk if reindex else index_images).send(
            items, model_id=model_id, **({"reindex": reindex} if reindex else {}))
    else:
        _index_now(items, model_id, reindex)


def _index_now(items: list[dict[str, Any]], model_id: str | None = None,
               reindex: dict[str, Any] | None = None) -> None:
    from actors.embed.records import INDEXED, ImageRecords

    client = context.store().redis
    if reindex:
        from actors.index.reindex import chunk_done, still_stored

        kept = still_stored(client, [i["image_id"] for i in items])
        resources.get("index").upsert_many([i for i in items if i["image_id"] in kept],
                                            model_id)
        chunk_done(client, reindex["job"], reindex["chunk"])
        return
    points = resources.get("index").upsert_many(items, model_id)
    records = ImageRecords(client)
    for item, point in zip(items, points, strict=True):
        records.set_status(item["image_id"], INDEXED, point_id=point)


@dramatiq.actor(queue_name=INDEX, max_retries=5, priority=BULK)
def index_images(items: list[dict[str, Any]], model_id: str | None = None) -> None:
    _index_now(items, model_id)


@dramatiq.actor(queue_name=INDEX, max_retries=5, priority=BACKGROUND)
def reindex_images_chunk(items: list[dict[str, Any]], model_id: str,
                         reindex: dict[str, Any]) -> None:
    """A reindex's vectors, after uploads (a lower priority than theirs)."""
    _index_now(items, model_id, reindex)


def _hits(hits: list[Any]) -> list[dict[str, Any]]:
    return [{"id": h.id, "score": h.score, "payload": h.payload} for h in hits]


@dramatiq.actor(queue_name=INDEX_QUERY, store_results=True, max_retries=0, time_limit=60_000,
                priority=INTERACTIVE)
def search_index(vector: list[float], limit: int = 10, filters: dict[str, Any] | None = None,
                 model_id: str | None = None) -> list[dict[str, Any]]:
    """Search the live collection (the alias); a vector of another model (embedded just
    before a switch) searches its own model's collection."""
    return _hits(resources.get("index").images.search(vector, limit, _filters(filters),
                                                      model_id))


@dramatiq.actor(queue_name=INDEX_QUERY, store_results=True, max_retries=0, time_limit=60_000,
                priority=INTERACTIVE)
def similar_images(image_id: str, limit: int = 10,
                   filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return _hits(resources.get("index").images.similar(image_id, limit, _filters(filters)))


@dramatiq.actor(queue_name=INDEX_QUERY, store_results=True, max_retries=3,
                priority=INTERACTIVE)
def delete_points(point_ids: list[str]) -> int:
    resources.get("index").images.delete(point_ids)
    return len(point_ids)


@dramatiq.actor(queue_name=INDEX_QUERY, store_results=True, max_retries=0, time_limit=60_000,
                priority=INTERACTIVE)
def index_stats() -> dict[str, Any]:
    return resources.get("index").images.stats()


@dramatiq.actor(queue_name=INDEX, max_retries=0, time_limit=3_600_000, priority=BULK)
def optimize_index() -> None:
    resources.get("index").index.optimize()


def _filters(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    """JSON filters → store filters: {"field": value | [values] | {"gte": a, "lte": b}}."""
    if not filters:
        return None
    from actors.index.store import Range

    return {k: Range(**v) if isinstance(v, dict) else v for k, v in filters.items()}
