"""Blue/green collections on a real Redis, without a broker, over Qdrant Edge and over
qdrant-client (local mode: the same client calls a server gets, aliases included)."""

from __future__ import annotations

import numpy as np
import pytest

from actors.index import models
from actors.index.bluegreen import BlueGreen, Conflict
from actors.index.factory import open_store
from actors.index.models import ModelSpec
from config.qdrant import QdrantSettings

OLD = ModelSpec("tiny-clip-a", "tiny-clip", "/m/a.pt", 8)
NEW = ModelSpec("tiny-clip-b", "tiny-clip", "/m/b.pt", 16)


def _vectors(n: int, dim: int, seed: int) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).tolist()


def _items(vectors: list[list[float]]) -> list[tuple[str, dict, list[float]]]:
    return [(f"00000000-0000-4000-8000-{i:012d}", {"blob_key": f"{i:064x}", "product_id": "p"},
             v) for i, v in enumerate(vectors)]


@pytest.fixture(params=["edge", "local"])
def store(request, tmp_path):
    opened = open_store(QdrantSettings(mode=request.param, path=tmp_path / "qdrant"))
    yield opened
    opened.close()


def test_a_changed_model_waits_for_a_switch_then_rolls_back(store, redis_client) -> None:
    old = BlueGreen(store, redis_client, OLD)
    old.boot()
    old_vectors = _vectors(5, OLD.dim, 1)
    old.upsert(OLD.model_id, _items(old_vectors))
    assert models.read_state(redis_client)["live"] == OLD.model_id

    # The index owner restarts with new settings: the alias stays on the old collection.
    new = BlueGreen(store, redis_client, NEW)
    new.boot()
    assert new.live().model_id == OLD.model_id
    assert new.search(old_vectors[2], 1)[0].id == _items(old_vectors)[2][0]

    plan = new.prepare(NEW)
    assert plan["live_model"] == OLD.model_id and plan["target"] != plan["live"]
    new_vectors = _vectors(5, NEW.dim, 2)
    new.upsert(NEW.model_id, _items(new_vectors))  # same image ids, the new model's vectors
    assert new.counts([plan["target"], plan["live"]]) == {plan["target"]: 5, plan["live"]: 5}

    switched = new.switch(NEW.model_id, expect_live=plan["live"])
    assert switched == {"live": plan["target"], "previous": plan["live"]}
    assert store.resolve_alias("images") == plan["target"]
    assert models.read_state(redis_client)["previous"] == OLD.model_id
    assert new.search(new_vectors[3], 1)[0].id == _items(new_vectors)[3][0]
    # A query embedded by the old model just before the switch still meets its own vectors.
    assert new.search(old_vectors[4], 1, model_id=OLD.model_id)[0].id == _items(old_vectors)[4][0]

    new.rollback()
    assert store.resolve_alias("images") == plan["live"]
    state = models.read_state(redis_client)
    assert state["live"] == OLD.model_id and state["rolled_back"] == NEW.model_id


def test_deletes_reach_every_collection_and_cleanup_ends_rollback(store, redis_client) -> None:
    images = BlueGreen(store, redis_client, OLD)
    images.boot()
    items = _items(_vectors(3, OLD.dim, 3))
    images.upsert(OLD.model_id, items)
    images.prepare(NEW)
    images.upsert(NEW.model_id, _items(_vectors(3, NEW.dim, 4)))
    images.delete([items[0][0]])
    assert set(images.counts(images.collections()).values()) == {2}
    with pytest.raises(Conflict):
        images.switch(NEW.model_id, expect_live="images__somewhere-else__8")
    old_collection = images.index_for(OLD.model_id).collection
    images.switch(NEW.model_id)
    assert images.drop_unused() == [old_collection]
    assert not store.collection_exists(old_collection)
    with pytest.raises(Conflict):
        images.rollback()
    assert images.live().model_id == NEW.model_id
