"""Images and texts → unit vectors through one dynamic batcher per process.

On CPU the calling worker threads decode (PIL releases the GIL, so decode overlaps the model);
on CUDA raw bytes go into the batch and are decoded together on the GPU (nvjpeg). Texts share
the same batcher, so query-time embeddings are batched with indexing work, ahead of it
(``urgent``): a search never waits behind queued images.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from actors.embed.batcher import BatcherStats, DynamicBatcher
from actors.embed.decode import decode_cpu, decode_many
from actors.embed.model import ClipModel
from config.clip import ClipSettings

if TYPE_CHECKING:
    import numpy as np
    import torch


@dataclass(frozen=True)
class EmbedItem:
    """One batch item: raw image bytes (decoded in the batch), ready pixels, or a text."""

    data: bytes | None = None
    pixels: Any = None  # torch.Tensor (3, S, S)
    text: str | None = None


class Embedder:
    """The per-process embedding service: ``embed_images`` / ``embed_texts`` block the caller."""

    def __init__(self, model: ClipModel, settings: ClipSettings) -> None:
        self.model = model
        self.limits = settings.images
        self.draft = settings.jpeg_draft
        self.decode_in_batch = settings.gpu_decode and model.device.type == "cuda"
        self.batcher: DynamicBatcher[EmbedItem, np.ndarray] = DynamicBatcher(
            self._run,
            max_batch=settings.max_batch,
            max_wait_ms=settings.max_wait_ms,
            min_batch=min(settings.oom_min_batch, settings.max_batch),
            recover_after=settings.oom_recover_after,
            on_oom=_release_cuda_cache,
            name=f"batcher-{model.model_id}",
        )

    @property
    def stats(self) -> BatcherStats:
        return self.batcher.stats

    def submit_image(self, data: bytes) -> Future[np.ndarray]:
        return self.batcher.submit(self._image_item(data))

    def submit_text(self, text: str) -> Future[np.ndarray]:
        return self.batcher.submit(EmbedItem(text=text))

    def embed_images(self, blobs: Sequence[bytes], *, urgent: bool = False
                     ) -> list[np.ndarray | Exception]:
        """One vector (float32, unit length) or the item's exception per image. ``urgent``:
        a search's query, embedded ahead of queued indexing work."""
        items: list[EmbedItem | Exception] = []
        for data in blobs:
            try:
                items.append(self._image_item(data))
            except Exception as exc:  # a corrupt image fails alone
                items.append(exc)
        ok = [i for i in items if isinstance(i, EmbedItem)]
        done = iter(self.batcher.map(ok, urgent=urgent))
        return [item if isinstance(item, Exception) else next(done) for item in items]

    def embed_texts(self, texts: Sequence[str], *, urgent: bool = False
                    ) -> list[np.ndarray | Exception]:
        return self.batcher.map([EmbedItem(text=t) for t in texts], urgent=urgent)

    def close(self) -> None:
        self.batcher.close()

    def _image_item(self, data: bytes) -> EmbedItem:
        if self.decode_in_batch:
            return EmbedItem(data=data)
        return EmbedItem(pixels=decode_cpu(data, self.model.spec, self.limits, draft=self.draft))

    # -- runs on the batcher thread --------------------------------------------------------
    def _run(self, items: list[EmbedItem]) -> list[np.ndarray | Exception]:
        out: list[np.ndarray | Exception] = [ValueError("empty item")] * len(items)
        images = [i for i, it in enumerate(items) if it.text is None]
        texts = [i for i, it in enumerate(items) if it.text is not None]
        if images:
            self._run_images(items, images, out)
        if texts:
            vecs = self.model.encode_texts([items[i].text or "" for i in texts]).numpy()
            for slot, i in enumerate(texts):
                out[i] = vecs[slot]
        return out

    def _run_images(self, items: list[EmbedItem], idx: list[int], out: list) -> None:  # type: ignore[type-arg]
        import torch

        raw = [i for i in idx if items[i].data is not None]
        decoded = decode_many(
            [items[i].data or b"" for i in raw],
            self.model.spec,
            limits=self.limits,
            device=str(self.model.device),
            gpu=True,
            draft=self.draft,
        )
        pixels: dict[int, torch.Tensor] = {}
        for i, res in zip(raw, decoded, strict=True):
            if isinstance(res, Exception):
                out[i] = res
            else:
                pixels[i] = res
        pixels.update({i: items[i].pixels for i in idx if items[i].data is None})
        if not pixels:
            return
        order = sorted(pixels)
        batch = torch.stack([pixels[i].to(self.model.device) for i in order])
        vecs = self.model.encode_images(batch).numpy()
        for slot, i in enumerate(order):
            out[i] = vecs[slot]


def _release_cuda_cache(_exc: BaseException) -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
