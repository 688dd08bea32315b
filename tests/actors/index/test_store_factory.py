"""open_store picks the backend from settings; an embedded Edge store has one owner."""

from __future__ import annotations

import pytest

from actors.index.client import ClientStore
from actors.index.edge import EdgeStore, StoreLocked
from actors.index.factory import open_store
from config.qdrant import QdrantSettings
from pools.errors import PermanentError


def test_edge_is_the_default_backend_and_local_mode_is_available(tmp_path) -> None:
    edge = open_store(QdrantSettings(path=tmp_path))
    local = open_store(QdrantSettings(mode="local", path=tmp_path))
    try:
        assert isinstance(edge, EdgeStore) and isinstance(local, ClientStore) and local.local
    finally:
        edge.close()
        local.close()


def test_server_mode_without_a_url_is_a_configuration_error() -> None:
    with pytest.raises(PermanentError, match="QDRANT_URL"):
        open_store(QdrantSettings(mode="server"))


def test_a_second_opener_of_an_edge_collection_is_refused_with_a_clear_message(tmp_path) -> None:
    first = EdgeStore(tmp_path)
    first.ensure_collection("c", 8, {})
    second = EdgeStore(tmp_path)
    try:
        with pytest.raises(StoreLocked, match="another process"):
            second.count("c")
    finally:
        first.close()
        second.close()


def test_edge_data_survives_closing_and_reopening(tmp_path) -> None:
    from actors.index.store import PointRecord

    store = EdgeStore(tmp_path)
    store.ensure_collection("c", 4, {"product_id": "keyword"})
    store.upsert("c", [PointRecord("00000000-0000-0000-0000-000000000001", [1, 0, 0, 0], {})])
    store.set_alias("images", "c")
    store.close()
    again = EdgeStore(tmp_path)
    try:
        assert again.count("c") == 1 and again.resolve_alias("images") == "c"
    finally:
        again.close()
