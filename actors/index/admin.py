"""Reindex actors: the coordinator job (queue ``reindex``) and the index owner's admin calls.

Thin: ``index_admin`` runs one ``BlueGreen`` operation where the store lives (prepare a
target collection, count, switch, roll back, clean up); ``reindex_all`` builds a
``Reindexer`` from the settings and runs it for its job (``actors.index.reindex``).
"""

from __future__ import annotations

from typing import Any

import dramatiq

from config.queues import INDEX_QUERY, INTERACTIVE, REINDEX
from config.settings import get_settings
from pools import context
from pools.errors import PermanentError
from pools.middleware import resources

WEEK_MS = 7 * 86_400_000


@dramatiq.actor(queue_name=INDEX_QUERY, store_results=True, max_retries=0, time_limit=300_000,
                priority=INTERACTIVE)
def index_admin(op: str, **kwargs: Any) -> dict[str, Any]:
    """``prepare`` (spec) · ``counts`` (collections) · ``switch`` (model_id, expect_live) ·
    ``rollback`` · ``cleanup``. A conflict is answered ``{"error": ...}``, not raised."""
    from actors.index.bluegreen import Conflict

    images = resources.get("index").images
    try:
        if op == "prepare":
            return images.prepare(_spec(kwargs["spec"]))
        if op == "counts":
            return images.counts(kwargs["collections"])
        if op == "switch":
            return images.switch(kwargs["model_id"], expect_live=kwargs.get("expect_live"))
        if op == "rollback":
            return images.rollback()
        if op == "cleanup":
            return {"dropped": images.drop_unused()}
    except Conflict as exc:
        return {"error": exc.message}
    raise PermanentError(f"unknown index_admin operation {op!r}", kind="bad_input")


def _spec(raw: dict[str, Any]) -> Any:
    """A spec whose dimension the index reads from the architecture's config."""
    from actors.index.actor import embed_dim
    from actors.index.models import ModelSpec

    spec = ModelSpec(raw["model_id"], raw["model_name"], raw.get("pretrained"),
                     int(raw.get("dim") or 0))
    if not spec.dim:
        spec = ModelSpec(spec.model_id, spec.model_name, spec.pretrained,
                         embed_dim(spec.clip(get_settings().clip)))
    return spec


@dramatiq.actor(queue_name=REINDEX, actor_name="reindex_all", store_results=True,
                max_retries=0, time_limit=WEEK_MS)
def reindex_all() -> dict[str, Any]:
    """Re-embed every stored image with the configured model; switch the alias when done."""
    from actors.embed.model import model_id_for
    from actors.index import reindex
    from actors.index.models import ModelSpec
    from pools.broker import build_result_backend
    from pools.rpc import call

    settings = get_settings()
    client = context.store().redis
    job_id = context.current_job_id() or "direct"
    holder = reindex.running(client)
    if holder not in (None, job_id) and not holder.startswith("pending:"):
        raise PermanentError(f"reindex {holder} is already running", kind="conflict")
    client.set(reindex.LOCK_KEY, job_id)
    clip = settings.clip
    spec = ModelSpec(model_id_for(clip), clip.model_name, clip.pretrained, 0)
    broker, backend = dramatiq.get_broker(), build_result_backend(settings)
    reembed = broker.get_actor("reembed_images")
    q = settings.qdrant

    def admin(op: str, **kwargs: Any) -> dict[str, Any]:
        return call(broker, backend, "index_admin", op, timeout_s=300, **kwargs)

    def send(items: list[dict[str, Any]], chunk: int, run: str) -> None:
        reembed.send(items, model_id=spec.model_id, reindex={"job": run, "chunk": chunk})

    runner = reindex.Reindexer(client, spec, admin, send, context.progress_reporter(),
                               context.cancel_checker(), chunk_size=clip.images.images_per_job,
                               window=q.reindex_window, stall_s=q.reindex_stall_s)
    try:
        return runner.run(job_id)
    finally:
        reindex.release(client, job_id)
