"""``open_store(settings)``: the ``VectorStore`` the settings ask for."""

from __future__ import annotations

from actors.index.store import VectorStore
from config.qdrant import QdrantSettings
from pools.errors import PermanentError


def open_store(settings: QdrantSettings) -> VectorStore:
    """Edge (default) under ``path``, a server at ``url``, or qdrant-client local mode."""
    tuning = {
        "hnsw_m": settings.hnsw_m,
        "ef_construct": settings.hnsw_ef_construct,
        "search_ef": settings.search_ef,
    }
    if settings.mode == "edge":
        from actors.index.edge import EdgeStore

        return EdgeStore(settings.path / "edge", **tuning)
    from qdrant_client import QdrantClient

    from actors.index.client import ClientStore

    if settings.mode == "local":
        settings.path.mkdir(parents=True, exist_ok=True)
        client = QdrantClient(path=str(settings.path / "local"))
        return ClientStore(client, local=True, **tuning)
    if not settings.url:
        raise PermanentError("qdrant.mode is 'server' but no qdrant.url / QDRANT_URL is set")
    api_key = settings.api_key.get_secret_value() if settings.api_key else None
    client = QdrantClient(
        url=settings.url,
        api_key=api_key,
        prefer_grpc=settings.prefer_grpc,
        timeout=int(settings.timeout_s),
    )
    return ClientStore(client, local=False, **tuning)
