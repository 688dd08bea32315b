"""Image collections end to end: blob store → tiny CLIP on CPU → every backend → search."""

from __future__ import annotations

import io

import numpy as np
import pytest

from actors.embed.blobs import BlobStore
from actors.embed.embedder import Embedder
from actors.embed.model import load_clip
from actors.index.collections import ImageDoc, ImageIndex, collection_name, point_id
from config.clip import ClipSettings


def _image(seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def embedder():  # type: ignore[no-untyped-def]
    settings = ClipSettings(model_name="tiny-clip", device="cpu", max_batch=32, max_wait_ms=5)
    service = Embedder(load_clip(settings), settings)
    yield service
    service.close()


def _index(store, embedder) -> ImageIndex:  # type: ignore[no-untyped-def]
    index = ImageIndex(store, model_id=embedder.model.model_id, dim=embedder.model.dim,
                       alias=f"{store.test_prefix}_images", prefix=store.test_prefix,
                       upsert_batch=4)
    index.ensure()
    return index


def _add(index, embedder, blobs: BlobStore, images: list[bytes], product: str) -> list[str]:
    keys = [blobs.put(data).key for data in images]
    vectors = embedder.embed_images([blobs.get(k) for k in keys])
    docs = [ImageDoc(blob_key=k, product_id=product, name=f"item {i}", metadata={"i": i})
            for i, k in enumerate(keys)]
    return index.upsert(docs, vectors)


def test_point_ids_are_stable_per_content_and_model() -> None:
    sha = "ab" * 32
    assert point_id(sha, "tiny-clip-random") == point_id(sha, "tiny-clip-random")
    assert point_id(sha, "tiny-clip-random") != point_id(sha, "vit-b-32-random")
    assert collection_name("images", "ViT-B-32 random", 512) == "images__vit-b-32-random__512"


def test_an_uploaded_image_is_found_first_by_image_search(store, embedder, tmp_path) -> None:
    index = _index(store, embedder)
    blobs = BlobStore(tmp_path / "blobs")
    images = [_image(i) for i in range(20)]
    ids = _add(index, embedder, blobs, images, "shoe-1")
    index.optimize()
    query = embedder.embed_images([images[7]])[0]
    hits = index.search(query, limit=5)
    assert hits[0].id == ids[7]
    assert hits[0].payload["blob_key"] == blobs.put(images[7]).key
    assert hits[0].payload["product_id"] == "shoe-1"
    assert hits[0].payload["metadata"] == {"i": 7}
    assert store.resolve_alias(index.alias) == index.collection


def test_the_same_image_uploaded_twice_is_one_point(store, embedder, tmp_path) -> None:
    index = _index(store, embedder)
    blobs = BlobStore(tmp_path / "blobs")
    first = _add(index, embedder, blobs, [_image(1)], "p")
    second = _add(index, embedder, blobs, [_image(1)], "p")
    assert first == second and index.count() == 1 and blobs.count() == 1


def test_deleting_an_image_removes_its_vector(store, embedder, tmp_path) -> None:
    index = _index(store, embedder)
    ids = _add(index, embedder, BlobStore(tmp_path), [_image(i) for i in range(3)], "p")
    index.delete([ids[0]])
    assert index.get(ids[0]) is None and index.count() == 2


def test_similar_images_exclude_the_image_itself_and_honour_filters(
    store, embedder, tmp_path
) -> None:
    index = _index(store, embedder)
    blobs = BlobStore(tmp_path)
    ids = _add(index, embedder, blobs, [_image(i) for i in range(6)], "a")
    _add(index, embedder, blobs, [_image(i) for i in range(10, 14)], "b")
    similar = index.similar(ids[0], limit=3, filters={"product_id": "a"})
    assert len(similar) == 3 and ids[0] not in {h.id for h in similar}
    assert all(h.payload["product_id"] == "a" for h in similar)
    stats = index.stats()
    assert stats["collections"] == {index.collection: 10}
    assert stats["alias_target"] == index.collection and stats["last_indexed_ts"]
