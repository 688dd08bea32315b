"""One suite over every VectorStore backend (Edge, local, server when reachable)."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from actors.index.store import CollectionMismatch, CollectionNotFound, PointRecord, Range


def unit(seed: int, dim: int = 32) -> list[float]:
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return (v / np.linalg.norm(v)).tolist()


def _name(store, base: str = "c") -> str:
    return f"{store.test_prefix}_{base}"


def _points(n: int, dim: int = 32) -> list[PointRecord]:
    return [
        PointRecord(str(uuid.UUID(int=i + 1)), unit(i, dim),
                    {"product_id": f"p{i % 3}", "rank": i, "metadata": {"colour": "red"}})
        for i in range(n)
    ]


def _ready(store, dim: int = 32) -> str:
    name = _name(store)
    assert store.ensure_collection(name, dim, {"product_id": "keyword", "rank": "float"})
    return name


def test_a_stored_vector_is_its_own_nearest_neighbour(store) -> None:
    name = _ready(store)
    points = _points(50)
    store.upsert(name, points)
    store.optimize(name)
    for p in points[:5]:
        hits = store.search(name, p.vector, limit=3)
        assert hits[0].id == p.id and hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert hits[0].payload["metadata"] == {"colour": "red"}


def test_upserting_the_same_id_twice_keeps_one_point_with_the_new_payload(store) -> None:
    name = _ready(store)
    point = _points(1)[0]
    store.upsert(name, [point])
    store.upsert(name, [PointRecord(point.id, point.vector, {"product_id": "again"})])
    assert store.count(name) == 1
    assert store.get(name, [point.id])[0].payload == {"product_id": "again"}


def test_filters_match_values_lists_and_ranges(store) -> None:
    name = _ready(store)
    store.upsert(name, _points(30))
    assert store.count(name, {"product_id": "p1"}) == 10
    assert store.count(name, {"product_id": ["p0", "p1"]}) == 20
    assert store.count(name, {"rank": Range(gte=10, lte=19)}) == 10
    hits = store.search(name, unit(4), limit=5, filters={"product_id": "p2"})
    assert hits and all(h.payload["product_id"] == "p2" for h in hits)


def test_deleted_points_are_gone_from_count_get_and_search(store) -> None:
    name = _ready(store)
    points = _points(10)
    store.upsert(name, points)
    store.delete(name, [points[0].id])
    assert store.count(name) == 9
    assert store.get(name, [points[0].id]) == []
    assert points[0].id not in {h.id for h in store.search(name, points[0].vector, limit=10)}


def test_get_returns_vectors_only_when_asked(store) -> None:
    name = _ready(store)
    point = _points(1)[0]
    store.upsert(name, [point])
    assert store.get(name, [point.id])[0].vector is None
    vec = store.get(name, [point.id], with_vectors=True)[0].vector
    assert vec == pytest.approx(point.vector, abs=1e-5)


def test_an_alias_follows_the_last_collection_it_was_pointed_at(store) -> None:
    a = _ready(store)
    b = _name(store, "b")
    store.ensure_collection(b, 32, {})
    assert store.resolve_alias(f"{store.test_prefix}_alias") is None
    store.set_alias(f"{store.test_prefix}_alias", a)
    store.set_alias(f"{store.test_prefix}_alias", b)
    assert store.resolve_alias(f"{store.test_prefix}_alias") == b
    assert {a, b} <= set(store.list_collections())


def test_reopening_a_collection_with_another_dimension_is_refused(store) -> None:
    name = _ready(store)
    assert not store.ensure_collection(name, 32, {})
    with pytest.raises(CollectionMismatch, match="32-d"):
        store.ensure_collection(name, 64, {})


def test_an_unknown_collection_is_a_clear_error(store) -> None:
    with pytest.raises(CollectionNotFound):
        store.count(_name(store, "missing"))
