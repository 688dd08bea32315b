"""Qdrant Edge backend: the Qdrant engine in-process (WAL, HNSW, payload indexes).

One shard directory per collection under ``root/collections/``; Edge has no aliases, so they
live in ``root/aliases.json`` (replaced atomically). An Edge shard is owned by one process: a
second opener gets ``StoreLocked``. Edge builds HNSW only in ``optimize()``; until then search
scans the appendable segment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
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
from pools.errors import PermanentError

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


class StoreLocked(PermanentError):
    """Another process owns this embedded store."""

    kind = "store_locked"


def _q() -> Any:
    import qdrant_edge

    return qdrant_edge


def _schema(kind: PayloadType) -> Any:
    t = _q().PayloadSchemaType
    return {
        "keyword": t.Keyword, "integer": t.Integer, "float": t.Float, "bool": t.Bool,
        "datetime": t.Datetime, "text": t.Text,
    }[kind]


def to_edge_filter(filters: Filters | None) -> Any:
    if not filters:
        return None
    q = _q()
    must = []
    for key, cond in filters.items():
        if isinstance(cond, Range):
            must.append(q.FieldCondition(key, range=q.RangeFloat(gte=cond.gte, lte=cond.lte)))
        elif isinstance(cond, (list, tuple)):
            must.append(q.FieldCondition(key, match=q.MatchAny(list(cond))))
        else:
            must.append(q.FieldCondition(key, match=q.MatchValue(cond)))
    return q.Filter(must=must)


class EdgeStore:
    """``VectorStore`` over Qdrant Edge shards in one directory."""

    def __init__(self, root: Path | str, *, hnsw_m: int = 16, ef_construct: int = 100,
                 search_ef: int | None = None) -> None:
        self.root = Path(root)
        (self.root / "collections").mkdir(parents=True, exist_ok=True)
        self.hnsw_m, self.ef_construct, self.search_ef = hnsw_m, ef_construct, search_ef
        self._shards: dict[str, Any] = {}
        self._lock = threading.RLock()

    # -- collections and aliases ----------------------------------------------------------
    def _dir(self, name: str) -> Path:
        if not _NAME.match(name):
            raise PermanentError(f"bad collection name {name!r}")
        return self.root / "collections" / name

    def collection_exists(self, name: str) -> bool:
        return (self._dir(name) / "edge_config.json").is_file()

    def list_collections(self) -> list[str]:
        base = self.root / "collections"
        return sorted(p.parent.name for p in base.glob("*/edge_config.json"))

    def ensure_collection(
        self, name: str, dim: int, payload_indexes: Mapping[str, PayloadType]
    ) -> bool:
        q = _q()
        with self._lock:
            created = not self.collection_exists(name)
            if created:
                hnsw = q.HnswIndexConfig(
                    m=self.hnsw_m, ef_construct=self.ef_construct, full_scan_threshold=10_000
                )
                cfg = q.EdgeConfig(
                    vectors=q.EdgeVectorParams(size=dim, distance=q.Distance.Cosine),
                    hnsw_config=hnsw,
                )
                self._shards[name] = _open(q.EdgeShard.create, str(self._dir(name)), cfg)
            shard = self._shard(name)
            size = shard_dim(self._dir(name))
            if size != dim:
                raise CollectionMismatch(f"collection {name} holds {size}-d vectors, not {dim}-d")
            have = set(shard.info().payload_schema)
            for field, kind in payload_indexes.items():
                if field not in have:
                    shard.update(q.UpdateOperation.create_field_index(field, _schema(kind)))
            return created

    def drop_collection(self, name: str) -> None:
        with self._lock:
            shard = self._shards.pop(name, None)
            if shard is not None:
                shard.close()
            shutil.rmtree(self._dir(name), ignore_errors=True)
            aliases = {a: c for a, c in self._aliases().items() if c != name}
            self._write_aliases(aliases)

    def set_alias(self, alias: str, collection: str) -> None:
        with self._lock:
            if not self.collection_exists(collection):
                raise CollectionNotFound(f"no collection {collection}")
            aliases = self._aliases()
            aliases[alias] = collection
            self._write_aliases(aliases)

    def resolve_alias(self, alias: str) -> str | None:
        return self._aliases().get(alias)

    def _aliases(self) -> dict[str, str]:
        path = self.root / "aliases.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def _write_aliases(self, aliases: dict[str, str]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".aliases-")
        with os.fdopen(fd, "w") as fh:
            json.dump(aliases, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.root / "aliases.json")

    def _shard(self, name: str) -> Any:
        with self._lock:
            shard = self._shards.get(name)
            if shard is None:
                if not self.collection_exists(name):
                    raise CollectionNotFound(f"no collection {name}")
                shard = _open(_q().EdgeShard.load, str(self._dir(name)))
                self._shards[name] = shard
            return shard

    # -- points ---------------------------------------------------------------------------
    def upsert(self, collection: str, points: Sequence[PointRecord]) -> None:
        if not points:
            return
        q = _q()
        batch = [q.Point(p.id, as_list(p.vector), p.payload) for p in points]
        self._shard(collection).update(q.UpdateOperation.upsert_points(batch))

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        if ids:
            self._shard(collection).update(_q().UpdateOperation.delete_points(list(ids)))

    def search(
        self, collection: str, vector: Sequence[float], limit: int = 10,
        filters: Filters | None = None,
    ) -> list[Hit]:
        q = _q()
        params = q.SearchParams(hnsw_ef=self.search_ef) if self.search_ef else None
        request = q.QueryRequest(
            query=q.Query.Nearest(as_list(vector)), limit=limit, filter=to_edge_filter(filters),
            params=params, with_payload=True, with_vector=False,
        )
        found = self._shard(collection).query(request)
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in found]

    def count(self, collection: str, filters: Filters | None = None) -> int:
        request = _q().CountRequest(exact=True, filter=to_edge_filter(filters))
        return int(self._shard(collection).count(request))

    def get(
        self, collection: str, ids: Sequence[str], with_vectors: bool = False
    ) -> list[PointRecord]:
        if not ids:
            return []
        found = self._shard(collection).retrieve(list(ids), True, with_vectors)
        return [
            PointRecord(str(r.id), r.vector if with_vectors else None, dict(r.payload or {}))
            for r in found
        ]

    def optimize(self, collection: str) -> None:
        self._shard(collection).optimize()

    def flush(self) -> None:
        with self._lock:
            for shard in self._shards.values():
                shard.flush()

    def close(self) -> None:
        with self._lock:
            for shard in self._shards.values():
                shard.close()
            self._shards.clear()


def shard_dim(path: Path) -> int:
    """The vector size recorded in a shard's ``edge_config.json``."""
    cfg = json.loads((path / "edge_config.json").read_text())
    vectors = cfg.get("vectors") or cfg.get("vector_data") or {}
    params = vectors.get("", vectors) if isinstance(vectors, dict) else vectors
    return int(params["size"])


def _open(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:
        if "WouldBlock" in str(exc) or "lock" in str(exc).lower():
            raise StoreLocked(
                f"the embedded Qdrant store {args[0]} is open in another process; with an "
                "embedded store only the index-queue owner opens it (or set a QDRANT_URL)"
            ) from exc
        raise
