"""The ``VectorStore`` protocol and the backend-neutral records and filters it speaks.

Filters are a mapping of payload field → condition: a scalar matches that value, a list matches
any of its values, a ``Range`` bounds a number. All conditions must hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pools.errors import PermanentError

PayloadType = Literal["keyword", "integer", "float", "bool", "datetime", "text"]


class CollectionNotFound(PermanentError):
    kind = "collection_not_found"


class CollectionMismatch(PermanentError):
    """The collection exists with another vector size."""

    kind = "collection_mismatch"


@dataclass(frozen=True)
class Range:
    gte: float | None = None
    lte: float | None = None


FilterValue = str | int | bool | Sequence[str] | Sequence[int] | Range
Filters = Mapping[str, FilterValue]


@dataclass
class PointRecord:
    id: str
    vector: Sequence[float] | None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    payload: dict[str, Any]


@runtime_checkable
class VectorStore(Protocol):
    """Collections of cosine-distance vectors with payloads, and aliases naming them."""

    def ensure_collection(
        self, name: str, dim: int, payload_indexes: Mapping[str, PayloadType]
    ) -> bool:
        """Create when missing (True), else check the size; create the payload indexes."""
        ...

    def collection_exists(self, name: str) -> bool: ...

    def list_collections(self) -> list[str]: ...

    def drop_collection(self, name: str) -> None: ...

    def set_alias(self, alias: str, collection: str) -> None:
        """Point ``alias`` at ``collection`` (atomically replacing any previous target)."""
        ...

    def resolve_alias(self, alias: str) -> str | None: ...

    def upsert(self, collection: str, points: Sequence[PointRecord]) -> None: ...

    def delete(self, collection: str, ids: Sequence[str]) -> None: ...

    def search(
        self,
        collection: str,
        vector: Sequence[float],
        limit: int = 10,
        filters: Filters | None = None,
    ) -> list[Hit]: ...

    def count(self, collection: str, filters: Filters | None = None) -> int: ...

    def get(
        self, collection: str, ids: Sequence[str], with_vectors: bool = False
    ) -> list[PointRecord]: ...

    def optimize(self, collection: str) -> None:
        """Build indexes now (Edge: merge segments, build HNSW). A no-op where automatic."""
        ...

    def close(self) -> None: ...


def as_list(vector: Any) -> list[float]:
    """numpy arrays, tensors and sequences → a plain list of floats."""
    tolist = getattr(vector, "tolist", None)
    return tolist() if tolist is not None else [float(x) for x in vector]
