"""GPU-queue actors: embed an uploaded image (then index it), embed a search query.

Thin: read the blob, hand it to the per-process ``Embedder`` (one dynamic batcher shared by
every worker thread), pass the vector on. The model is loaded at worker boot, after the fork.
"""

from __future__ import annotations

import time
from typing import Any

import dramatiq

from config.queues import GPU
from config.settings import get_settings
from pools import context
from pools.errors import PermanentError
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

    def vector(self, data: bytes) -> list[float]:
        (out,) = self.embedder.embed_images([data])
        self._export_metrics()
        if isinstance(out, Exception):
            if isinstance(out, PermanentError):
                raise out
            raise PermanentError(f"cannot embed image: {out}", kind="corrupt_image") from out
        return out.tolist()

    def text_vector(self, text: str) -> list[float]:
        (out,) = self.embedder.embed_texts([text])
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


resources.register("gpu", _GpuRuntime, queues=[GPU])


@dramatiq.actor(queue_name=GPU, store_results=True, max_retries=3)
def embed_image(image_id: str, blob_key: str, doc: dict[str, Any]) -> dict[str, Any]:
    from actors.embed.records import EMBEDDED, ImageRecords

    runtime = resources.get("gpu")
    vector = runtime.vector(runtime.blobs.get(blob_key))
    records = ImageRecords(context.store().redis)
    records.set_status(image_id, EMBEDDED, model_id=runtime.model.model_id)
    from actors.index.actor import deliver_vector

    deliver_vector(image_id, doc, vector)
    return {"image_id": image_id, "model_id": runtime.model.model_id, "dim": len(vector)}


@dramatiq.actor(queue_name=GPU, store_results=True, max_retries=0, time_limit=60_000)
def embed_query(text: str | None = None, blob_key: str | None = None) -> list[float]:
    """A query vector for search: text, or an uploaded image; batched with indexing work."""
    runtime = resources.get("gpu")
    if text is not None:
        return runtime.text_vector(text)
    if blob_key is not None:
        return runtime.vector(runtime.blobs.get(blob_key))
    raise PermanentError("embed_query needs text or blob_key", kind="bad_input")
