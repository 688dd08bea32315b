"""Image collections: one per model (name carries model id and dimension) behind an alias.

Point ids are uuid5(content sha256 + model id), so a retried or repeated upload lands on the
same point. The payload holds what the upload carried plus the blob key and created time.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from actors.index.store import Filters, Hit, PayloadType, PointRecord, VectorStore
from pools.errors import PermanentError

#: Fixed namespace of image point ids. Never change it: ids would no longer match.
POINT_NAMESPACE = uuid.UUID("5b0d4c1e-6a43-5f0e-9d55-7f3c2a9e8b61")

PAYLOAD_INDEXES: Mapping[str, PayloadType] = {
    "product_id": "keyword",
    "blob_key": "keyword",
    "model_id": "keyword",
    "created_ts": "float",
}


def collection_name(prefix: str, model_id: str, dim: int) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", model_id.lower()).strip("-")
    return f"{prefix}__{slug}__{dim}"


def point_id(sha256: str, model_id: str) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"{sha256}:{model_id}"))


@dataclass(frozen=True)
class ImageDoc:
    """What an upload says about one image; ``blob_key`` is its sha256."""

    blob_key: str
    product_id: str | None = None
    name: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    created_ts: float = field(default_factory=time.time)

    def payload(self, model_id: str) -> dict[str, Any]:
        created = datetime.fromtimestamp(self.created_ts, UTC).isoformat()
        return {
            "product_id": self.product_id,
            "name": self.name,
            "description": self.description,
            "metadata": dict(self.metadata),
            "blob_key": self.blob_key,
            "model_id": model_id,
            "created_ts": self.created_ts,
            "created_at": created,
        }


class ImageIndex:
    """The image collection of one model in a ``VectorStore``."""

    def __init__(
        self,
        store: VectorStore,
        *,
        model_id: str,
        dim: int,
        alias: str = "images",
        prefix: str = "images",
        upsert_batch: int = 256,
        optimize_after: int = 0,
    ) -> None:
        self.store, self.model_id, self.dim, self.alias = store, model_id, dim, alias
        self.prefix = prefix
        self.collection = collection_name(prefix, model_id, dim)
        self.upsert_batch, self.optimize_after = upsert_batch, optimize_after
        self._since_optimize = 0
        self.last_indexed_ts: float | None = None

    def ensure(self, *, activate: bool = True) -> None:
        """Create the collection and its payload indexes; point the alias at it."""
        self.store.ensure_collection(self.collection, self.dim, PAYLOAD_INDEXES)
        if activate or self.store.resolve_alias(self.alias) is None:
            self.store.set_alias(self.alias, self.collection)

    def point_id(self, blob_key: str) -> str:
        return point_id(blob_key, self.model_id)

    def upsert(self, docs: Sequence[ImageDoc], vectors: Sequence[Any],
               ids: Sequence[str] | None = None) -> list[str]:
        """Upsert in batches of ``upsert_batch``; returns the point ids, in order. ``ids``:
        the images' own ids (an image keeps its id when a reindex moves it to another
        model's collection); by default the id of the content under this model."""
        if len(docs) != len(vectors) or (ids is not None and len(ids) != len(docs)):
            raise PermanentError(f"{len(docs)} documents but {len(vectors)} vectors")
        ids = ids if ids is not None else [self.point_id(d.blob_key) for d in docs]
        points = [
            PointRecord(i, v, d.payload(self.model_id))
            for i, d, v in zip(ids, docs, vectors, strict=True)
        ]
        for start in range(0, len(points), self.upsert_batch):
            self.store.upsert(self.collection, points[start : start + self.upsert_batch])
        self.last_indexed_ts = time.time()
        self._since_optimize += len(points)
        if self.optimize_after and self._since_optimize >= self.optimize_after:
            self.optimize()
        return [p.id for p in points]

    def optimize(self) -> None:
        self.store.optimize(self.collection)
        self._since_optimize = 0

    def search(self, vector: Any, limit: int = 10, filters: Filters | None = None) -> list[Hit]:
        return self.store.search(self.collection, vector, limit, filters)

    def similar(self, point: str, limit: int = 10, filters: Filters | None = None) -> list[Hit]:
        """Images like a stored one (itself excluded)."""
        found = self.store.get(self.collection, [point], with_vectors=True)
        if not found or found[0].vector is None:
            raise PermanentError(f"no image {point}")
        hits = self.store.search(self.collection, found[0].vector, limit + 1, filters)
        return [h for h in hits if h.id != point][:limit]

    def get(self, point: str) -> PointRecord | None:
        found = self.store.get(self.collection, [point])
        return found[0] if found else None

    def delete(self, points: Sequence[str]) -> None:
        self.store.delete(self.collection, points)

    def count(self, filters: Filters | None = None) -> int:
        return self.store.count(self.collection, filters)

    def stats(self) -> dict[str, Any]:
        """Counts per collection, the alias target and the last indexing time."""
        names = [n for n in self.store.list_collections() if n.startswith(f"{self.prefix}__")]
        counts = {name: self.store.count(name) for name in names}
        return {
            "alias": self.alias,
            "alias_target": self.store.resolve_alias(self.alias),
            "collections": counts,
            "last_indexed_ts": self.last_indexed_ts,
        }
