"""Load an open_clip model once per process and encode images and texts, L2-normalised.

Nothing here runs at import: torch and open_clip are imported inside ``load_clip``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.clip import ClipSettings
from pools.errors import PermanentError

if TYPE_CHECKING:
    import torch


class ModelLoadError(PermanentError):
    """The configured model cannot be built (unknown name, missing checkpoint)."""


class SimulatedOutOfMemory(RuntimeError):
    """Raised by the ``memory_budget_items`` testing aid; handled exactly like CUDA OOM."""

    def __init__(self, batch: int, budget: int) -> None:
        super().__init__(f"out of memory (simulated): batch of {batch} exceeds budget {budget}")


@dataclass(frozen=True)
class ImageSpec:
    """What the model expects as input pixels."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


@dataclass
class ClipModel:
    """A loaded open_clip model, ready to encode on its device."""

    model: Any
    tokenizer: Any
    preprocess: Any
    spec: ImageSpec
    device: torch.device
    dtype: torch.dtype
    model_id: str
    dim: int
    memory_budget_items: int | None = None

    def encode_images(self, pixels: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) normalised pixels on any device → (N, dim) float32 CPU, unit length."""
        import torch

        self._check_budget(len(pixels))
        x = pixels.to(self.device, dtype=self.dtype, non_blocking=True)
        with torch.inference_mode():
            out = self.model.encode_image(x)
        return _normalise(out)

    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """Texts → (N, dim) float32 CPU, unit length."""
        import torch

        self._check_budget(len(texts))
        tokens = self.tokenizer(list(texts)).to(self.device)
        with torch.inference_mode():
            out = self.model.encode_text(tokens)
        return _normalise(out)

    def _check_budget(self, n: int) -> None:
        if self.memory_budget_items is not None and n > self.memory_budget_items:
            raise SimulatedOutOfMemory(n, self.memory_budget_items)


def _normalise(out: torch.Tensor) -> torch.Tensor:
    import torch

    out = out.float()
    return torch.nn.functional.normalize(out, dim=-1).cpu()


def resolve_device(setting: str) -> str:
    """``auto`` → ``cuda`` when torch sees a GPU, else ``cpu``."""
    import torch

    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("clip.device is 'cuda' but torch sees no CUDA device")
    return setting


def resolve_dtype(precision: str, device: str) -> torch.dtype:
    import torch

    if precision == "auto":
        return torch.float16 if device == "cuda" else torch.float32
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]


def model_id_for(settings: ClipSettings) -> str:
    """A stable, filesystem- and collection-safe id: architecture + weights."""
    weights = settings.pretrained or "random"
    if settings.pretrained and Path(settings.pretrained).suffix:
        weights = Path(settings.pretrained).stem
    raw = f"{settings.model_name}-{weights}".lower()
    return re.sub(r"[^a-z0-9._-]+", "-", raw).strip("-")


def load_clip(settings: ClipSettings) -> ClipModel:
    """Build the model, its preprocessing and tokenizer on the configured device.

    Call once per process, after the fork (a worker boot hook): this is where CUDA is first
    touched. Never downloads: HF_HUB_OFFLINE is set when ``hub_offline`` is on.
    """
    if settings.hub_offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
    import open_clip
    import torch

    if settings.model_config_dir.is_dir():
        open_clip.add_model_config(settings.model_config_dir)
    device = resolve_device(settings.device)
    dtype = resolve_dtype(settings.precision, device)
    if settings.pretrained and not _is_tag_or_file(settings.pretrained):
        raise ModelLoadError(f"checkpoint not found: {settings.pretrained}")
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            settings.model_name, pretrained=settings.pretrained, device=device
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelLoadError(f"cannot load {settings.model_name!r}: {exc}") from exc
    model.eval()
    if dtype != torch.float32:
        model = model.to(dtype=dtype)
    return ClipModel(
        model=model,
        tokenizer=open_clip.get_tokenizer(settings.model_name),
        preprocess=preprocess,
        spec=_spec(model),
        device=torch.device(device),
        dtype=dtype,
        model_id=model_id_for(settings),
        dim=_embed_dim(model),
        memory_budget_items=settings.memory_budget_items,
    )


def _is_tag_or_file(pretrained: str) -> bool:
    suffixes = {".pt", ".pth", ".bin", ".safetensors"}
    looks_like_path = "/" in pretrained or Path(pretrained).suffix in suffixes
    return not looks_like_path or Path(pretrained).is_file()


def _spec(model: Any) -> ImageSpec:
    cfg = model.visual.preprocess_cfg
    size = cfg["size"]
    side = size if isinstance(size, int) else size[0]
    return ImageSpec(size=int(side), mean=tuple(cfg["mean"]), std=tuple(cfg["std"]))


def _embed_dim(model: Any) -> int:
    dim = getattr(model, "embed_dim", None) or getattr(model.visual, "output_dim", None)
    if dim is None:
        raise ModelLoadError("cannot tell the model's embedding dimension")
    return int(dim)
