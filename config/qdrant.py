"""Settings of the vector index: which Qdrant backend, where, and how collections are named."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class QdrantSettings(BaseModel):
    """One ``VectorStore`` over Qdrant Edge (embedded), a Qdrant server, or qdrant-client local."""

    mode: Literal["edge", "server", "local"] = Field(
        "edge",
        description="edge: Qdrant Edge in-process under `path` (default, one process per store); "
        "server: qdrant-client against `url`; local: qdrant-client local mode under `path`.",
    )
    url: str | None = Field(None, description="Qdrant server URL (server mode); QDRANT_URL.")
    api_key: SecretStr | None = Field(None, description="Qdrant server API key.")
    prefer_grpc: bool = Field(False, description="Server mode: use gRPC instead of REST.")
    timeout_s: float = Field(30.0, gt=0, description="Server mode: request timeout.")
    path: Path = Field(Path("./var/qdrant"), description="Data directory (edge and local modes).")
    alias: str = Field("images", description="Alias naming the live image collection.")
    collection_prefix: str = Field(
        "images", description="Collection names: <prefix>__<model id>__<dimension>."
    )
    upsert_batch: int = Field(256, ge=1, description="Points per upsert call.")
    optimize_after: int = Field(
        0,
        ge=0,
        description="Edge: run the segment optimizer (HNSW build) inline after this many "
        "upserts; 0 (default) leaves it to the periodic reindex schedule, since a build "
        "blocks the index owner (about 3 minutes at 100k points on 2 cores).",
    )
    hnsw_m: int = Field(16, ge=4, description="HNSW graph degree.")
    hnsw_ef_construct: int = Field(100, ge=8, description="HNSW build beam width.")
    search_ef: int | None = Field(None, ge=1, description="HNSW search beam width (None: auto).")
    reindex_window: int = Field(
        8, ge=1, description="Reindex: most multi-image messages waiting on the gpu queue at "
        "once (uploads queued meanwhile wait behind at most these).")
    reindex_stall_s: float = Field(
        900.0, gt=0, description="Reindex: give up (the alias stays) when no image was "
        "re-embedded for this long.")
