"""Blue/green image collections: one collection per model behind the ``images`` alias.

Searches go to the collection the alias names (or, for a query vector of another model, to
that model's own collection: a query embedded just before a switch still meets vectors of its
own model). A reindex fills the collection of the configured model while the alias keeps
naming the live one; ``switch`` points the alias at the new collection in one atomic step
(a server alias update, or the Edge store's atomically replaced aliases file) and records the
previous collection for ``rollback`` until ``drop`` removes it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from actors.index import models
from actors.index.collections import ImageDoc, ImageIndex, collection_name
from actors.index.store import Filters, Hit, VectorStore
from pools.errors import PermanentError

log = logging.getLogger(__name__)
ALIAS_CACHE_S = 1.0


class Conflict(PermanentError):
    """The operation does not fit the index's state (no previous collection, a mismatch)."""

    kind = "conflict"
    http_status = 409


class BlueGreen:
    def __init__(self, store: VectorStore, redis: Any, own: models.ModelSpec, *,
                 alias: str = "images", prefix: str = "images", upsert_batch: int = 256,
                 optimize_after: int = 0) -> None:
        self.store, self.redis, self.alias, self.prefix = store, redis, alias, prefix
        self._options = {"alias": alias, "prefix": prefix, "upsert_batch": upsert_batch,
                         "optimize_after": optimize_after}
        self._indexes: dict[str, ImageIndex] = {}
        self._lock = threading.RLock()
        self._alias_at, self._alias_target = 0.0, None
        self.own_spec = own
        self.index_for(own)

    @property
    def own(self) -> ImageIndex:
        """The configured model's index (made again if a cleanup dropped it)."""
        return self.index_for(self.own_spec)

    # -- collections ----------------------------------------------------------------------
    def boot(self) -> None:
        """Create the configured model's collection (the alias moves only if it named
        nothing: a changed model waits for a reindex) and record the live model."""
        models.register(self.redis, self.own_spec)
        target = self.store.resolve_alias(self.alias)
        live = self.model_of(target) if target else None
        if target and live is None:  # made before the registry: leave it, say so
            live = target.split("__")[1] if target.count("__") == 2 else target
            log.warning("the alias %s names %s, whose model was never registered: searches "
                        "fail until a reindex (POST /v1/reindex) fills %s", self.alias, target,
                        self.own.collection)
        elif live is None:
            self.store.set_alias(self.alias, self.own.collection)
            live = self.own.model_id
        if models.read_state(self.redis).get("live") != live:
            models.set_state(self.redis, live=live)

    def index_for(self, model: str | models.ModelSpec) -> ImageIndex:
        """The (ensured) index of a model id or spec; specs are looked up in the registry."""
        model_id = model if isinstance(model, str) else model.model_id
        with self._lock:
            index = self._indexes.get(model_id)
            if index is None:
                spec = model if isinstance(model, models.ModelSpec) else models.lookup(
                    self.redis, model_id)
                if spec is None:
                    raise PermanentError(f"unknown model {model_id!r}: no process registered "
                                         "it (repertory:index:models)", kind="unknown_model")
                index = ImageIndex(self.store, model_id=model_id, dim=spec.dim, **self._options)
                index.ensure(activate=False)
                self._indexes[model_id] = index
            return index

    def model_of(self, collection: str) -> str | None:
        for index in list(self._indexes.values()):
            if index.collection == collection:
                return index.model_id
        for model_id, raw in self.redis.hgetall(models.MODELS_KEY).items():
            dim = json.loads(raw)["dim"]
            if collection_name(self.prefix, model_id.decode(), dim) == collection:
                return model_id.decode()
        return None

    def live(self) -> ImageIndex:
        now = time.monotonic()
        if self._alias_target is None or now - self._alias_at > ALIAS_CACHE_S:
            self._alias_target, self._alias_at = self.store.resolve_alias(self.alias), now
        target = self._alias_target
        if target == self.own.collection or target is None:
            return self.own
        model_id = self.model_of(target)
        if model_id is None:
            raise PermanentError(f"the alias {self.alias} names {target}, a collection of no "
                                 "registered model", kind="unknown_model")
        return self.index_for(model_id)

    # -- points ---------------------------------------------------------------------------
    def upsert(self, model_id: str | None, items: Sequence[tuple[str, dict[str, Any], Any]]
               ) -> list[str]:
        """``(image_id, doc, vector)`` into the collection of ``model_id`` (own if None)."""
        index = self.index_for(model_id) if model_id else self.own
        return index.upsert([ImageDoc(**doc) for _, doc, _ in items],
                            [vec for _, _, vec in items],
                            ids=[i or index.point_id(doc["blob_key"]) for i, doc, _ in items])

    def search(self, vector: Any, limit: int, filters: Filters | None = None,
               model_id: str | None = None) -> list[Hit]:
        live = self.live()
        if model_id and model_id != live.model_id:
            return self.index_for(model_id).search(vector, limit, filters)
        return live.search(vector, limit, filters)

    def similar(self, point: str, limit: int, filters: Filters | None = None) -> list[Hit]:
        return self.live().similar(point, limit, filters)

    def delete(self, ids: Sequence[str]) -> None:
        """From every image collection: the live one, a previous kept for rollback, a target
        being filled."""
        for name in self.collections():
            self.store.delete(name, ids)

    def collections(self) -> list[str]:
        return [n for n in self.store.list_collections() if n.startswith(f"{self.prefix}__")]

    def counts(self, names: Sequence[str]) -> dict[str, int]:
        return {n: self.store.count(n) for n in names}

    # -- reindex --------------------------------------------------------------------------
    def prepare(self, spec: models.ModelSpec) -> dict[str, Any]:
        """Register ``spec`` and create its collection; where a reindex toward it writes."""
        models.register(self.redis, spec)
        target, live = self.index_for(spec), self.live()
        return {"target": target.collection, "target_model": spec.model_id,
                "live": live.collection, "live_model": live.model_id}

    def switch(self, model_id: str, *, expect_live: str | None = None) -> dict[str, Any]:
        """Point the alias at ``model_id``'s collection (one atomic step)."""
        with self._lock:
            live, new = self.live(), self.index_for(model_id)
            if expect_live and live.collection != expect_live:
                raise Conflict(f"the alias moved to {live.collection} meanwhile")
            self.store.set_alias(self.alias, new.collection)
            self._alias_target, self._alias_at = new.collection, time.monotonic()
            models.set_state(self.redis, live=new.model_id, previous=live.model_id,
                             target=None, rolled_back=None)
        log.info("alias %s: %s -> %s", self.alias, live.collection, new.collection)
        return {"live": new.collection, "previous": live.collection}

    def rollback(self) -> dict[str, Any]:
        """Back to the previous collection (kept until cleanup)."""
        with self._lock:
            state = models.read_state(self.redis)
            previous = state.get("previous")
            if not previous:
                raise Conflict("no previous collection to roll back to")
            index = self.index_for(previous)
            if not self.store.collection_exists(index.collection):
                raise Conflict(f"the previous collection {index.collection} was cleaned up")
            done = self.switch(previous)
            models.set_state(self.redis, rolled_back=state.get("live"))
        return done

    def drop_unused(self) -> list[str]:
        """Drop every image collection but the live one and a reindex's target."""
        state = models.read_state(self.redis)
        keep = {self.live().collection}
        if state.get("target"):
            keep.add(self.index_for(state["target"]).collection)
        dropped = [n for n in self.collections() if n not in keep]
        with self._lock:
            for name in dropped:
                self.store.drop_collection(name)
            self._indexes = {k: v for k, v in self._indexes.items()
                             if v.collection not in dropped}
        if state.get("previous"):
            models.set_state(self.redis, previous=None)
        return dropped

    def stats(self) -> dict[str, Any]:
        live = self.live()
        return {**live.stats(), "alias_target": live.collection, "model_id": live.model_id,
                "state": models.read_state(self.redis)}
