"""The tiny open_clip model on CPU through the real batcher: equality, failures, OOM."""

from __future__ import annotations

import numpy as np
import pytest

from actors.embed.decode import decode_cpu, decode_many
from actors.embed.embedder import Embedder
from actors.embed.images import CorruptImage
from actors.embed.model import ModelLoadError, load_clip, model_id_for
from config.clip import ClipSettings


def test_batched_embeddings_equal_one_at_a_time_embeddings_in_fp32(
    tiny_model, tiny_settings, image_factory
) -> None:
    blobs = [image_factory(i) for i in range(12)]
    embedder = Embedder(tiny_model, tiny_settings)
    try:
        batched = embedder.embed_images(blobs)
        assert max(embedder.batcher.batch_sizes) == 12
        singles = []
        for b in blobs:
            singles.append(embedder.embed_images([b])[0])
    finally:
        embedder.close()
    diff = max(float(np.abs(a - s).max()) for a, s in zip(batched, singles, strict=True))
    assert diff <= 1e-5
    assert len({v.tobytes() for v in batched}) == 12  # distinct images, distinct vectors


def test_image_and_text_embeddings_are_unit_length(tiny_model, tiny_settings, image_factory):
    embedder = Embedder(tiny_model, tiny_settings)
    try:
        vecs = embedder.embed_images([image_factory(1, "PNG"), image_factory(2, "WEBP")])
        vecs += embedder.embed_texts(["red running shoe", "blue kettle"])
    finally:
        embedder.close()
    for v in vecs:
        assert v.shape == (32,) and v.dtype == np.float32
        assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5


def test_a_corrupt_file_in_a_batch_fails_alone(tiny_model, tiny_settings, image_factory):
    good = [image_factory(i) for i in range(4)]
    truncated = image_factory(9)[:200]
    blobs = [good[0], good[1], truncated, b"\xff\xd8\xffnot a jpeg", good[2], good[3]]
    embedder = Embedder(tiny_model, tiny_settings)
    try:
        out = embedder.embed_images(blobs)
        alone = embedder.embed_images([good[2]])[0]
    finally:
        embedder.close()
    assert [type(o).__name__ for o in out] == [
        "ndarray", "ndarray", "CorruptImage", "CorruptImage", "ndarray", "ndarray"
    ]
    assert np.abs(out[4] - alone).max() <= 1e-5


def test_a_forced_memory_budget_halves_the_model_batch_and_every_image_succeeds(
    image_factory,
) -> None:
    settings = ClipSettings(model_name="tiny-clip", device="cpu", max_batch=16,
                            max_wait_ms=200, memory_budget_items=5, oom_recover_after=1000)
    model = load_clip(settings)
    embedder = Embedder(model, settings)
    try:
        out = embedder.embed_images([image_factory(i) for i in range(16)])
        stats = embedder.stats
        sizes = list(embedder.batcher.batch_sizes)
    finally:
        embedder.close()
    assert all(isinstance(o, np.ndarray) for o in out)
    assert sizes[:3] == [16, 8, 4]
    assert stats.oom_events == 2 and stats.batch_limit == 4


def test_decoding_matches_the_models_input_size_for_every_format(tiny_model, image_factory):
    for fmt in ("JPEG", "PNG", "WEBP"):
        pixels = decode_cpu(image_factory(5, fmt, (300, 120)), tiny_model.spec)
        assert tuple(pixels.shape) == (3, 64, 64)
        assert -3 < float(pixels.min()) < float(pixels.max()) < 3


def test_decode_many_returns_an_exception_only_in_the_bad_slot(tiny_model, image_factory):
    out = decode_many([image_factory(1), b"junk", image_factory(2, "PNG")], tiny_model.spec)
    assert isinstance(out[1], CorruptImage)
    assert tuple(out[0].shape) == tuple(out[2].shape) == (3, 64, 64)


def test_the_model_id_names_architecture_and_weights() -> None:
    assert model_id_for(ClipSettings(model_name="ViT-B-32")) == "vit-b-32-random"
    ckpt = ClipSettings(model_name="ViT-B-32", pretrained="/models/My Weights.safetensors")
    assert model_id_for(ckpt) == "vit-b-32-my-weights"


def test_a_missing_local_checkpoint_is_a_clear_load_error(tmp_path) -> None:
    settings = ClipSettings(model_name="tiny-clip", pretrained=str(tmp_path / "nope.pt"))
    with pytest.raises(ModelLoadError, match="checkpoint not found"):
        load_clip(settings)


@pytest.mark.gpu
def test_fp16_on_cuda_with_gpu_decode_agrees_with_fp32_on_cpu(tiny_model, image_factory):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    settings = ClipSettings(model_name="tiny-clip", device="cuda", precision="fp16")
    gpu_model = load_clip(settings)
    gpu_model.model.load_state_dict(
        {k: v.to(dtype=torch.float16) for k, v in tiny_model.model.state_dict().items()}
    )
    embedder = Embedder(gpu_model, settings)
    cpu_embedder = Embedder(tiny_model, ClipSettings(model_name="tiny-clip", jpeg_draft=False))
    blobs = [image_factory(i, size=(640, 480)) for i in range(8)] + [b"\xff\xd8\xffbad"]
    try:
        assert embedder.decode_in_batch
        gpu = embedder.embed_images(blobs)
        cpu = cpu_embedder.embed_images(blobs)
    finally:
        embedder.close()
        cpu_embedder.close()
    assert isinstance(gpu[-1], CorruptImage)
    cos = [float(np.dot(g, c)) for g, c in zip(gpu[:-1], cpu[:-1], strict=True)]
    assert min(cos) > 0.98
