"""Settings of the GPU pool: the CLIP model, the dynamic batcher and image uploads."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

#: The directory holding the repo's own open_clip architecture JSONs (the tiny test model).
MODEL_CONFIG_DIR = Path(__file__).resolve().parent / "model_configs"


class ImageSettings(BaseModel):
    """Upload limits and the blob store."""

    max_bytes: int = Field(
        20 * 1024 * 1024, ge=1, description="Largest accepted image file (bigger: HTTP 413)."
    )
    max_pixels: int = Field(
        40_000_000,
        ge=1,
        description="Largest width*height accepted (bigger: HTTP 422, decompression-bomb guard).",
    )
    max_side: int = Field(
        16_384, ge=1, description="Largest width or height accepted (bigger: HTTP 422)."
    )
    formats: list[Literal["jpeg", "png", "webp"]] = Field(
        default_factory=lambda: ["jpeg", "png", "webp"],
        description="Accepted formats, sniffed from magic bytes (others: HTTP 415).",
    )
    max_request_bytes: int = Field(
        256 * 1024 * 1024, ge=1,
        description="Largest whole POST /v1/images request (every file and form field), "
        "refused with HTTP 413 before it is read.",
    )
    max_inflated_bytes: int = Field(
        256 * 1024 * 1024, ge=1,
        description="Most bytes the zip archives of one upload may inflate to, all entries "
        "together: their declared sizes are checked before anything is inflated and the "
        "bytes actually inflated are counted while reading (bigger: HTTP 413).",
    )
    images_per_job: int = Field(
        32, ge=1, le=1024,
        description="Images per job (and message) in a bulk upload: bigger messages mean "
        "fewer broker round trips per image; one bad image still fails alone.",
    )
    blob_dir: Path = Field(
        Path("./var/blobs"),
        description="Root of the content-addressed (sha256) blob store; a volume in containers.",
    )


class ClipSettings(BaseModel):
    """The open_clip model, its precision and device, and the dynamic batcher."""

    model_name: str = Field(
        "ViT-B-32", description="open_clip architecture name (e.g. ViT-B-32, tiny-clip)."
    )
    pretrained: str | None = Field(
        None,
        description="open_clip pretrained tag (from the local HF cache only) or a path to a "
        "local checkpoint file. None: random weights (tests, benchmarks).",
    )
    precision: Literal["auto", "fp32", "fp16", "bf16"] = Field(
        "auto", description="auto: fp16 weights on CUDA, fp32 on CPU."
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="auto: cuda when torch sees a GPU, else cpu."
    )
    model_config_dir: Path = Field(
        MODEL_CONFIG_DIR,
        description="Extra open_clip architecture JSONs registered before loading.",
    )
    hub_offline: bool = Field(
        True, description="Set HF_HUB_OFFLINE=1 before loading: never fetch from a hub."
    )
    max_batch: int = Field(256, ge=1, description="A batch runs when it holds this many items.")
    max_wait_ms: float = Field(
        5.0, ge=0, description="...or when its oldest item has waited this long."
    )
    oom_min_batch: int = Field(
        1, ge=1, description="Out-of-memory halves the batch down to this size, then fails."
    )
    oom_recover_after: int = Field(
        50, ge=1, description="Successful batches after an OOM before the limit doubles back."
    )
    gpu_decode: bool = Field(
        True, description="Decode JPEGs on the GPU (nvjpeg) when CUDA is present."
    )
    jpeg_draft: bool = Field(
        True,
        description="CPU decode: let libjpeg scale down by 1/2..1/8 while decoding "
        "(much faster for large photos; the result still passes through the same resize).",
    )
    memory_budget_items: int | None = Field(
        None,
        ge=1,
        description="Testing aid: a batch larger than this raises an out-of-memory error "
        "through the real OOM path. None in production.",
    )
    images: ImageSettings = Field(default_factory=ImageSettings)
