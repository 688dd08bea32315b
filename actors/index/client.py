"""qdrant-client backend: a Qdrant server (``url``) or qdrant-client local mode (``path``).

With a server any number of processes may index and search. Local mode is kept for comparison;
it ignores payload indexes, so none are created there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from actors.index.store import (
    CollectionMismatch,
    CollectionNotFound,
    Filters,
    Hit,
    PayloadType,
    PointRecord,
    Range,
    as_list,
)


def _m() -> Any:
    from qdrant_client import models

    return models


def to_client_filter(filters: Filters | None) -> Any:
    if not filters:
        return None
    m = _m()
    must = []
    for key, cond in filters.items():
        if isinstance(cond, Range):
            must.append(m.FieldCondition(key=key, range=m.Range(gte=cond.gte, lte=cond.lte)))
        elif isinstance(cond, (list, tuple)):
            must.append(m.FieldCondition(key=key, match=m.MatchAny(any=list(cond))))
        else:
            must.append(m.FieldCondition(key=key, match=m.MatchValue(value=cond)))
    return m.Filter(must=must)


class ClientStore:
    """``VectorStore`` over a ``qdrant_client.QdrantClient``."""

    def __init__(self, client: Any, *, local: bool, hnsw_m: int = 16, ef_construct: int = 100,
                 search_ef: int | None = None) -> None:
        self.client, self.local = client, local
        self.hnsw_m, self.ef_construct, self.search_ef = hnsw_m, ef_construct, search_ef

    def collection_exists(self, name: str) -> bool:
        return bool(self.client.collection_exists(name))

    def list_collections(self) -> list[str]:
        return sorted(c.name for c in self.client.get_collections().collections)

    def ensure_collection(
        self, name: str, dim: int, payload_indexes: Mapping[str, PayloadType]
    ) -> bool:
        m = _m()
        created = not self.collection_exists(name)
        if created:
            self.client.create_collection(
                name,
                vectors_config=m.VectorParams(size=dim, distance=m.Distance.COSINE),
                hnsw_config=m.HnswConfigDiff(m=self.hnsw_m, ef_construct=self.ef_construct),
            )
        size = self.client.get_collection(name).config.params.vectors.size
        if size != dim:
            raise CollectionMismatch(f"collection {name} holds {size}-d vectors, not {dim}-d")
        if not self.local:
            for field, kind in payload_indexes.items():
                self.client.create_payload_index(name, field, _schema(kind))
        return created

    def drop_collection(self, name: str) -> None:
        self.client.delete_collection(name)

    def set_alias(self, alias: str, collection: str) -> None:
        m = _m()
        if not self.collection_exists(collection):
            raise CollectionNotFound(f"no collection {collection}")
        ops: list[Any] = []
        if self.resolve_alias(alias) is not None:
            ops.append(m.DeleteAliasOperation(delete_alias=m.DeleteAlias(alias_name=alias)))
        create = m.CreateAlias(collection_name=collection, alias_name=alias)
        ops.append(m.CreateAliasOperation(create_alias=create))
        self.client.update_collection_aliases(change_aliases_operations=ops)

    def resolve_alias(self, alias: str) -> str | None:
        for a in self.client.get_aliases().aliases:
            if a.alias_name == alias:
                return str(a.collection_name)
        return None

    def _check(self, collection: str) -> None:
        if not self.collection_exists(collection):
            raise CollectionNotFound(f"no collection {collection}")

    def upsert(self, collection: str, points: Sequence[PointRecord]) -> None:
        if not points:
            return
        m = _m()
        structs = [m.PointStruct(id=p.id, vector=as_list(p.vector), payload=p.payload)
                   for p in points]
        self.client.upsert(collection, points=structs, wait=True)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        if ids:
            selector = _m().PointIdsList(points=list(ids))
            self.client.delete(collection, points_selector=selector, wait=True)

    def search(
        self, collection: str, vector: Sequence[float], limit: int = 10,
        filters: Filters | None = None,
    ) -> list[Hit]:
        self._check(collection)
        params = _m().SearchParams(hnsw_ef=self.search_ef) if self.search_ef else None
        res = self.client.query_points(
            collection, query=as_list(vector), limit=limit, query_filter=to_client_filter(filters),
            search_params=params, with_payload=True,
        )
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in res.points]

    def count(self, collection: str, filters: Filters | None = None) -> int:
        self._check(collection)
        res = self.client.count(collection, count_filter=to_client_filter(filters), exact=True)
        return int(res.count)

    def get(
        self, collection: str, ids: Sequence[str], with_vectors: bool = False
    ) -> list[PointRecord]:
        self._check(collection)
        if not ids:
            return []
        found = self.client.retrieve(
            collection, ids=list(ids), with_payload=True, with_vectors=with_vectors
        )
        return [PointRecord(str(r.id), r.vector if with_vectors else None, dict(r.payload or {}))
                for r in found]

    def optimize(self, collection: str) -> None:
        """The server and local mode index on their own."""

    def flush(self) -> None:
        """Writes are acknowledged with ``wait=True``; nothing to flush."""

    def close(self) -> None:
        self.client.close()


def _schema(kind: PayloadType) -> Any:
    t = _m().PayloadSchemaType
    return {
        "keyword": t.KEYWORD, "integer": t.INTEGER, "float": t.FLOAT, "bool": t.BOOL,
        "datetime": t.DATETIME, "text": t.TEXT,
    }[kind]
