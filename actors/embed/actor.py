"""GPU-queue actors: embed an uploaded image (then index it), embed a search query.

Thin: read the blob, hand it to the per-process ``Embedder`` (one dynamic batcher shared by
every worker thread), pass the vector on. The model is loaded at worker boot, after the fork.
"""

from __future__ import annotations

import time
from typing import Any

import dramatiq

from config.queues import BULK, GPU, GPU_QUERY, INTERACTIVE
from config.settings import get_settings
from pools import context
from pools.errors import PermanentError, TransientError
from pools.middleware import heartbeat, resources

_METRICS_EVERY_S = 2.0


class _GpuRuntime:
    """Model, batcher and blob store of one gpu-pool process."""

    def __init__(self) -> None:
        from actors.embed.blobs import BlobStore
        from actors.embed.embedder import Embedder
        from actors.embed.model import load_clip
        from pools.gpu import device_report

        settings = get_settings()
        self.model = load_clip(settings.clip)
        self.embedder = Embedder(self.model, settings.clip)
        self.blobs = BlobStore(settings.clip.images.blob_dir)
        self._metrics_at = 0.0
        heartbeat.add_provider(lambda: {**device_report(self.model.model_id),
                                        "batch_limit": self.embedder.stats.batch_limit,
                                        "last_batch_size": self.embedder.stats.last_batch_size})

    def read(self, blob_key: str) -> bytes | Exception:
        try:
            return self.blobs.get(blob_key)
        except PermanentError as exc:
            return exc

    def vectors(self, blobs: list[bytes | Exception], *, urgent: bool = False
                ) -> tuple[list[list[float] | None], dict[int, str]]:
        """One vector per readable image; ``{position: error}`` for the rest.

        A transient failure (the batch ran out of memory at its smallest size) is raised so
        the whole message is retried; anything else is the image's own fault.
        """
        readable = [(i, b) for i, b in enumerate(blobs) if isinstance(b, bytes)]
        out = (self.embedder.embed_images([b for _, b in readable], urgent=urgent)
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

    def vector(self, data: bytes) -> list[float]:
        """A search's query image: ahead of queued indexing work."""
        vectors, failed = self.vectors([data], urgent=True)
        if failed:
            raise PermanentError(failed[0], kind="corrupt_image")
        return vectors[0]

    def text_vector(self, text: str) -> list[float]:
        (out,) = self.embedder.embed_texts([text], urgent=True)
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
        self.embedder.close()


resources.register("gpu", _GpuRuntime, queues=[GPU_QUERY, GPU])


@dramatiq.actor(queue_name=GPU, store_results=True, max_retries=3, priority=BULK)
def embed_images(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Embed a message's images together; an image that cannot be read fails alone.

    ``items``: ``{"image_id", "blob_key", "doc"}``. Good vectors go to the index in one
    message; the job fails only when every image failed.
    """
    from actors.embed.records import EMBEDDED, FAILED, ImageRecords
    from actors.index.actor import deliver_vectors

    runtime = resources.get("gpu")
    records = ImageRecords(context.store().redis)
    vectors, failed = runtime.vectors([runtime.read(i["blob_key"]) for i in items])
    good = []
    for item, vector in zip(items, vectors, strict=True):
        if vector is None:
            continue
        records.set_status(item["image_id"], EMBEDDED, model_id=runtime.model.model_id)
        good.append({**item, "vector": vector})
    for index, error in failed.items():
        records.set_status(items[index]["image_id"], FAILED, error=error)
    if not good:
        raise PermanentError("; ".join(failed.values())[:2000], kind="corrupt_image")
    deliver_vectors([{"image_id": g["image_id"], "doc": g["doc"], "vector": g["vector"]}
                     for g in good])
    return {"embedded": [g["image_id"] for g in good], "model_id": runtime.model.model_id,
            "failed": [{"image_id": items[i]["image_id"], "error": e}
                       for i, e in failed.items()]}


@dramatiq.actor(queue_name=GPU_QUERY, store_results=True, max_retries=0, time_limit=60_000,
                priority=INTERACTIVE)
def embed_query(text: str | None = None, blob_key: str | None = None) -> list[float]:
    """A query vector for search: text, or an uploaded image. Its own queue (the gpu pool's
    interactive lane) and priority: it is taken before queued indexing work, and batched ahead
    of it."""
    runtime = resources.get("gpu")
    if text is not None:
        return runtime.text_vector(text)
    if blob_key is not None:
        return runtime.vector(runtime.blobs.get(blob_key))
    raise PermanentError("embed_query needs text or blob_key", kind="bad_input")
