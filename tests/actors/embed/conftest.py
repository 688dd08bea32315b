"""Fixtures for the embedding tests: generated images and the tiny open_clip model (CPU)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from config.clip import ClipSettings


def make_image(seed: int, fmt: str = "JPEG", size: tuple[int, int] = (96, 72)) -> bytes:
    """A distinct picture per seed: a colour gradient with random blocks."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    w, h = size
    base = np.zeros((h, w, 3), dtype=np.uint8)
    base[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    base[..., 1] = rng.integers(0, 256)
    base[..., 2] = np.linspace(255, 0, h, dtype=np.uint8)[:, None]
    for _ in range(6):
        x, y = int(rng.integers(0, w - 8)), int(rng.integers(0, h - 8))
        base[y : y + 16, x : x + 16] = rng.integers(0, 256, size=3)
    buf = io.BytesIO()
    Image.fromarray(base).save(buf, fmt)
    return buf.getvalue()


@pytest.fixture(scope="session")
def image_factory() -> Callable[..., bytes]:
    return make_image


@pytest.fixture(scope="session")
def tiny_settings() -> ClipSettings:
    return ClipSettings(model_name="tiny-clip", device="cpu", precision="fp32", max_batch=16,
                        max_wait_ms=5)


@pytest.fixture(scope="session")
def tiny_model(tiny_settings: ClipSettings):  # type: ignore[no-untyped-def]
    from actors.embed.model import load_clip

    return load_clip(tiny_settings)
