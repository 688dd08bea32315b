"""GPU-queue actors: embed an uploaded image (then index it), embed a search query.

Thin: read the blob, hand it to the per-process ``Embedder`` (one dynamic batcher shared by
every worker thread), pass the vector on. The model is loaded at worker boot, after the fork.
"""

from __future__ import annotations

import time
from typing import Any

import dramatiq

from config.queues import BACKGROUND, BULK, GPU, GPU_QUERY, INTERACTIVE
from config.settings import get_settings
from pools import context
from pools.errors import PermanentError, TransientError
from pools.middleware import heartbeat, resources

_METRICS_EVERY_S = 2.0


class _GpuRuntime:
    """Models, batchers and blob store of one gpu-pool process.

    The configured model is loaded at boot. Another model (the live collection's while a
    reindex toward new settings runs, or a reindex's target) is loaded on first use from the
    registry (``actors.index.models``) and kept: a query must be embedded by the model of
    the collection it searches."""

    def __init__(self) -> None:
        import threading

        from actors.embed.blobs import BlobStore
        from actors.embed.embedder import Embedder
        from actors.embed.model import load_clip
        from actors.index import models
        from pools.gpu import device_report

        settings = get_settings()
        self.clip = settings.clip
        self.model = load_clip(settings.clip)
        self.embedder = Embedder(self.model, settings.clip)
        self.embedders = {self.model.model_id: self.embedder}
        self._loading = threading.Lock()
        self.blobs = BlobStore(settings.clip.images.blob_dir)
        self._metrics_at = 0.0
        models.register(context.store().redis,
                        models.spec_for(settings.clip, self.model.dim))
        heartbeat.add_provider(lambda: {**device_report(self.model.model_id),
                                        "batch_limit": self.embedder.stats.batch_limit,
                                        "last_batch_size": self.embedder.stats.last_batch_size,
                                        "models": sorted(self.embedders)})

    def embedder_for(self, model_id: str | None) -> Any:
        """The embedder of ``model_id`` (the configured one for None), loaded on first use."""
        if not model_id or model_id in self.embedders:
            return self.embedders[model_id or self.model.model_id]
        with self._loading:
            if model_id not in self.embedders:
                from actors.embed.embedder import Embedder
                from actors.embed.model import load_clip
                from actors.index import models

                spec = models.lookup(context.store().redis, model_id)
                if spec is None:
                    raise PermanentError(f"model {model_id!r} is not registered; cannot load "
                                         "it", kind="unknown_model")
                clip = spec.clip(self.clip)
                self.embedders[model_id] = Embedder(load_clip(clip), clip)
            return self.embedders[model_id]

    def write_models(self) -> list[str]:
        """The models an upload is embedded with now (the live one, and a reindex's target)."""
        from actors.index import models

        return models.write_models(models.read_state(context.store().redis),
                                   self.model.model_id)

    def read(self, blob_key: str) -> bytes | Exception:
        try:
            return self.blobs.get(blob_key)
        except PermanentError as exc:
            return exc

    def vectors(self, blobs: list[bytes | Exception], *, urgent: bool = False,
                model_id: str | None = None
                ) -> tuple[list[list[float] | None], dict[int, str]]:
        """One vector per readable image; ``{position: error}`` for the rest.

        A transient failure (the batch ran out of memory at its smallest size) is raised so
        the whole message is retried; anything else is the image's own fault.
        """
        readable = [(i, b) for i, b in enumerate(blobs) if isinstance(b, bytes)]
        embedder = self.embedder_for(model_id)
        out = (embedder.embed_images([b for _, b in readable], urgent=urgent)
               if readable else [])
        self._export_metrics()
        vectors: list[list[float] | None] = [None] * len(blobs)
        failed = {i: str(b) for i, b in enumerate(blobs) if isinstance(b, Exception)}
        for (i, _), result in zip(readable, out, strict=True):
            if isinstance(result, TransientError):
                raise result
            if isinstance(result, Exception):
                failed[i] = f"cannot embed image: {result}"
            else:
                vectors[i] = result.tolist()
        return vectors, failed

    def vector(self, data: bytes, model_id: str | None = None) -> list[float]:
        """A search's query image: ahead of queued indexing work."""
        vectors, failed = self.vectors([data], urgent=True, model_id=model_id)
        if failed:
            raise PermanentError(failed[0], kind="corrupt_image")
        return vectors[0]

    def text_vector(self, text: str, model_id: str | None = None) -> list[float]:
        (out,) = self.embedder_for(model_id).embed_texts([text], urgent=True)
        if isinstance(out, Exception):
            raise out
        return out.tolist()

    def _export_metrics(self) -> None:
        now = time.monotonic()
        if now - self._metrics_at < _METRICS_EVERY_S:
            return
        self._metrics_at = now
        from pools.metrics import set_gauge

        stats = self.embedder.stats
        client = context.store().redis
        for name, value in (("gpu_batch_size", stats.last_batch_size),
                            ("gpu_batch_wait_ms", stats.last_wait_ms),
                            ("gpu_batch_limit", stats.batch_limit)):
            set_gauge(client, name, value or 0, model=self.model.model_id)

    def close(self) -> None:
        for embedder in self.embedders.values():
            embedder.close()


resources.register("gpu", _GpuRuntime, queues=[GPU_QUERY, GPU])


@dramatiq.actor(queue_name=GPU, store_results=True, max_retries=3, priority=BULK)
def embed_images(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Embed a message's images together; an image that cannot be read fails alone.

    ``items``: ``{"image_id", "blob_key", "doc"}``. Good vectors go to the index in one
    message per model: the live collection's, and during a reindex the new one's too (so an
    upload made meanwhile is searchable now and present after the switch). The job fails
    only when every image failed.
    """
    from actors.embed.records import EMBEDDED, FAILED, ImageRecords
    from actors.index.actor import deliver_vectors

    runtime = resources.get("gpu")
    records = ImageRecords(context.store().redis)
    blobs = [runtime.read(i["blob_key"]) for i in items]
    failed: dict[int, str] = {}
    embedded: list[str] = []
    write_models = runtime.write_models()
    for model_id in write_models:
        vectors, failed = runtime.vectors(blobs, model_id=model_id)
        good = [{"image_id": i["image_id"], "doc": i["doc"], "vector": v}
                for i, v in zip(items, vectors, strict=True) if v is not None]
        if good:
            deliver_vectors(good, model_id=model_id)
        embedded = [g["image_id"] for g in good]
    for image_id in embedded:
        records.set_status(image_id, EMBEDDED, model_id=write_models[0])
    for index, error in failed.items():
        records.set_status(items[index]["image_id"], FAILED, error=error)
    if not embedded:
        raise PermanentError("; ".join(failed.values())[:2000], kind="corrupt_image")
    return {"embedded": embedded, "model_id": write_models[0],
            "failed": [{"image_id": items[i]["image_id"], "error": e}
                       for i, e in failed.items()]}


@dramatiq.actor(queue_name=GPU, store_results=False, max_retries=3, priority=BACKGROUND)
def reembed_images(items: list[dict[str, Any]], model_id: str, reindex: dict[str, Any]) -> None:
    """A reindex's chunk: embed stored images with ``model_id`` into its new collection.

    Below uploads (priority and a bounded number of chunks queued at once). The images'
    records are not touched; one that cannot be read is recorded as the reindex's failure."""
    from actors.index.actor import deliver_vectors
    from actors.index.reindex import chunk_done, image_failed

    runtime = resources.get("gpu")
    client = context.store().redis
    vectors, failed = runtime.vectors([runtime.read(i["blob_key"]) for i in items],
                                      model_id=model_id)
    for index, error in failed.items():
        image_failed(client, reindex["job"], items[index]["image_id"], error)
    good = [{"image_id": i["image_id"], "doc": i["doc"], "vector": v}
            for i, v in zip(items, vectors, strict=True) if v is not None]
    if good:
        deliver_vectors(good, model_id=model_id, reindex=reindex)
    else:
        chunk_done(client, reindex["job"], reindex["chunk"])


@dramatiq.actor(queue_name=GPU_QUERY, store_results=True, max_retries=0, time_limit=60_000,
                priority=INTERACTIVE)
def embed_query(text: str | None = None, blob_key: str | None = None,
                model_id: str | None = None) -> list[float]:
    """A query vector for search: text, or an uploaded image, by ``model_id`` (the live
    collection's; the configured model when None). Its own queue (the gpu pool's interactive
    lane) and priority: it is taken before queued indexing work, and batched ahead of it."""
    runtime = resources.get("gpu")
    if text is not None:
        return runtime.text_vector(text, model_id)
    if blob_key is not None:
        return runtime.vector(runtime.blobs.get(blob_key), model_id)
    raise PermanentError("embed_query needs text or blob_key", kind="bad_input")
