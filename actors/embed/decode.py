"""Decode image bytes into the model's normalised input pixels.

CPU: PIL (JPEG draft scaling, bicubic resize of the shortest side, centre crop). GPU: nvjpeg via
``torchvision.io.decode_jpeg(device="cuda")`` for JPEGs, antialiased resize on the GPU; other
formats go through PIL. A corrupt image fails only its own item: results are a list holding a
tensor or the exception for each input.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from actors.embed.images import CorruptImage, ImageRejected, check_pixels, sniff_format
from actors.embed.model import ImageSpec
from config.clip import ImageSettings

if TYPE_CHECKING:
    import torch

def decode_cpu(
    data: bytes, spec: ImageSpec, limits: ImageSettings | None = None, *, draft: bool = True
) -> torch.Tensor:
    """One image → (3, S, S) float32 normalised, on the CPU."""
    import numpy as np
    import torch
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
        if limits is not None:
            check_pixels(*im.size, limits)
        if draft and im.format == "JPEG":
            im.draft("RGB", (spec.size, spec.size))
        im = _resize_crop(im.convert("RGB"), spec.size)
        arr = np.asarray(im, dtype=np.uint8)
    except ImageRejected:
        raise
    except Exception as exc:  # PIL raises many types for bad data
        raise CorruptImage(f"cannot decode image: {exc}") from exc
    pixels = torch.from_numpy(arr.copy()).permute(2, 0, 1)
    return _normalise(pixels, spec)


def _resize_crop(im, size: int):  # type: ignore[no-untyped-def]
    from PIL import Image

    w, h = im.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    if (nw, nh) != (w, h):
        im = im.resize((nw, nh), Image.Resampling.BICUBIC)
    left, top = (nw - size) // 2, (nh - size) // 2
    return im.crop((left, top, left + size, top + size))


def _normalise(pixels: torch.Tensor, spec: ImageSpec) -> torch.Tensor:
    """uint8 (3, H, W) on any device → float32 normalised with the model's mean/std."""
    import torch

    mean = torch.tensor(spec.mean, device=pixels.device).view(3, 1, 1)
    std = torch.tensor(spec.std, device=pixels.device).view(3, 1, 1)
    return (pixels.float() / 255.0 - mean) / std


def decode_many(
    blobs: Sequence[bytes],
    spec: ImageSpec,
    *,
    limits: ImageSettings | None = None,
    device: str = "cpu",
    gpu: bool = False,
    draft: bool = True,
) -> list[torch.Tensor | Exception]:
    """Decode a batch; each slot holds pixels or the exception that image raised."""
    if gpu and device.startswith("cuda"):
        return _decode_gpu(blobs, spec, limits, device, draft)
    return [_try(decode_cpu, b, spec, limits, draft=draft) for b in blobs]


def _try(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        return exc


def _decode_gpu(
    blobs: Sequence[bytes],
    spec: ImageSpec,
    limits: ImageSettings | None,
    device: str,
    draft: bool,
) -> list[torch.Tensor | Exception]:
    out: list[torch.Tensor | Exception] = [CorruptImage("not decoded")] * len(blobs)
    jpegs: list[int] = []
    for i, data in enumerate(blobs):
        if sniff_format(data) == "jpeg" and _header_ok(data, limits, out, i):
            jpegs.append(i)
        elif sniff_format(data) != "jpeg":
            cpu = _try(decode_cpu, data, spec, limits, draft=draft)
            out[i] = cpu if isinstance(cpu, Exception) else cpu.to(device, non_blocking=True)
    for i, img in zip(jpegs, _nvjpeg(blobs, jpegs, device), strict=True):
        out[i] = img if isinstance(img, Exception) else _gpu_resize_norm(img, spec)
    return out


def _header_ok(data: bytes, limits, out: list, i: int) -> bool:  # type: ignore[no-untyped-def]
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            if limits is not None:
                check_pixels(*im.size, limits)
        return True
    except ImageRejected as exc:
        out[i] = exc
    except Exception as exc:
        out[i] = CorruptImage(f"cannot decode image: {exc}")
    return False


def _nvjpeg(blobs: Sequence[bytes], idx: list[int], device: str) -> list:  # type: ignore[type-arg]
    """Decode JPEGs on the GPU as one call; on failure retry one by one to isolate the bad."""
    import torch
    from torchvision.io import ImageReadMode, decode_jpeg

    if not idx:
        return []
    data = [torch.frombuffer(bytearray(blobs[i]), dtype=torch.uint8) for i in idx]
    try:
        return list(decode_jpeg(data, mode=ImageReadMode.RGB, device=device))
    except RuntimeError:
        results: list = []  # type: ignore[type-arg]
        for d in data:
            try:
                results.append(decode_jpeg(d, mode=ImageReadMode.RGB, device=device))
            except RuntimeError as exc:
                results.append(CorruptImage(f"cannot decode JPEG: {exc}"))
        return results


def _gpu_resize_norm(img: torch.Tensor, spec: ImageSpec) -> torch.Tensor:
    import torch.nn.functional as F

    _, h, w = img.shape
    scale = spec.size / min(h, w)
    nh, nw = max(spec.size, round(h * scale)), max(spec.size, round(w * scale))
    x = img[None].float()
    if (nh, nw) != (h, w):
        x = F.interpolate(x, size=(nh, nw), mode="bicubic", antialias=True, align_corners=False)
    top, left = (nh - spec.size) // 2, (nw - spec.size) // 2
    x = x[0, :, top : top + spec.size, left : left + spec.size].clamp_(0, 255)
    return _normalise(x, spec)
