"""Every available VectorStore backend: Qdrant Edge, qdrant-client local, and a server when
QDRANT_URL points at one (the suite's own switch; skipped otherwise)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from actors.index.factory import open_store
from actors.index.store import VectorStore
from config.qdrant import QdrantSettings

BACKENDS = ["edge", "local", "server"]


def _server_url() -> str | None:
    url = os.environ.get("QDRANT_URL")
    if not url:
        return None
    import httpx

    try:
        httpx.get(f"{url.rstrip('/')}/readyz", timeout=2).raise_for_status()
    except httpx.HTTPError:
        return None
    return url


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[VectorStore]:
    mode = request.param
    settings = QdrantSettings(mode=mode, path=tmp_path / "qdrant")
    if mode == "server":
        url = _server_url()
        if url is None:
            pytest.skip("no Qdrant server reachable at QDRANT_URL")
        settings = QdrantSettings(mode="server", url=url)
    opened = open_store(settings)
    created: list[str] = []
    opened.test_prefix = f"t{uuid.uuid4().hex[:8]}"  # type: ignore[attr-defined]
    try:
        yield opened
    finally:
        if mode == "server":
            for name in opened.list_collections():
                if name.startswith(opened.test_prefix):  # type: ignore[attr-defined]
                    opened.drop_collection(name)
        del created
        opened.close()

