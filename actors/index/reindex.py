"""The blue/green reindex: re-embed every stored image into the collection of the configured
model while searches keep using the live one, then switch the alias when the counts match.

``Reindexer.run`` is the coordinator (the ``reindex`` job, on the cpu pool's ``reindex``
queue). It asks the index owner to create the target collection (``index_admin``), marks the
target in the index state (uploads are then written to both collections), takes a snapshot of
the image records, and sends them to the gpu queue in multi-image messages
(``reembed_images``, below uploads' priority), at most ``window`` messages waiting at once so
uploads never queue behind the whole reindex. The index counts each finished chunk; the job's
progress is images done / total. When every chunk is in and no image failed, it waits for the
two collections' counts to match and asks the index owner to switch the alias (one atomic
step). The previous collection stays for rollback until cleanup.

One reindex at a time: ``claim`` takes a Redis lock that names the running job (a lock whose
job finished or vanished is free again).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import WatchError

from actors.index import models
from config.queues import PREFIX, job_key
from pools.errors import JobCancelled, PermanentError

LOCK_KEY = f"{PREFIX}:reindex:lock"
KEEP_S = 7 * 86_400
_ACTIVE = (b"queued", b"running", b"retrying")


def _key(job_id: str, what: str) -> str:
    return f"{PREFIX}:reindex:{job_id}:{what}"


# -- book-keeping written by the gpu and index workers ----------------------------------------
def chunk_done(client: Any, job_id: str, chunk: int) -> None:
    pipe = client.pipeline(transaction=False)
    pipe.sadd(_key(job_id, "chunks"), chunk)
    pipe.expire(_key(job_id, "chunks"), KEEP_S)
    pipe.execute()


def image_failed(client: Any, job_id: str, image_id: str, error: str) -> None:
    pipe = client.pipeline(transaction=False)
    pipe.hset(_key(job_id, "failed"), image_id, error[:500])
    pipe.expire(_key(job_id, "failed"), KEEP_S)
    pipe.execute()


def still_stored(client: Any, image_ids: list[str]) -> set[str]:
    """The ids whose image record exists (one deleted during a reindex is not re-added)."""
    pipe = client.pipeline(transaction=False)
    for image_id in image_ids:
        pipe.exists(f"{PREFIX}:image:{image_id}")
    return {i for i, found in zip(image_ids, pipe.execute(), strict=True) if found}


# -- one reindex at a time ---------------------------------------------------------------------
def running(client: Any) -> str | None:
    """The job id of the reindex in progress (or being submitted), if any."""
    held = client.get(LOCK_KEY)
    if not held:
        return None
    held = held.decode()
    if held.startswith("pending:"):
        return held
    return held if client.hget(job_key(held), "status") in _ACTIVE else None


def claim(client: Any) -> tuple[str | None, str]:
    """``(None, token)`` when this caller may start a reindex (the lock holds ``token`` for a
    minute: ``adopt`` it with the job id); ``(holder, "")`` when one is running."""
    token = f"pending:{uuid.uuid4().hex}"
    with client.pipeline() as pipe:
        pipe.watch(LOCK_KEY)
        holder = running(pipe)
        if holder is not None:
            return holder, ""
        pipe.multi()
        pipe.set(LOCK_KEY, token, ex=60)
        try:
            pipe.execute()
        except WatchError:  # another caller claimed it first
            return (client.get(LOCK_KEY) or b"pending:").decode(), ""
    return None, token


def adopt(client: Any, token: str, job_id: str | None) -> None:
    """Replace the claim's token by the submitted job (or free the lock when none was)."""
    if client.get(LOCK_KEY) == token.encode():
        if job_id:
            client.set(LOCK_KEY, job_id)
        else:
            client.delete(LOCK_KEY)


def release(client: Any, job_id: str) -> None:
    if client.get(LOCK_KEY) == job_id.encode():
        client.delete(LOCK_KEY)


class ReindexConflict(PermanentError):
    """A reindex is running, or the live collection already holds the configured model."""

    kind = "conflict"
    http_status = 409


def start(service: Any, settings: Any, *, key: str | None = None,
          callback_url: str | None = None, delay_ms: int | None = None,
          reason: str = "on demand") -> Any:
    """Submit the ``reindex`` job toward the configured model (a ``Submission``)."""
    from actors.embed.model import model_id_for

    client = service.store.redis
    wanted_id = model_id_for(settings.clip)
    live = models.read_state(client).get("live")
    if live == wanted_id:
        raise ReindexConflict(f"the live collection already holds model {wanted_id}; nothing "
                              "to reindex (change the clip settings first)")
    holder, token = claim(client)
    if holder is not None:
        raise ReindexConflict(f"a reindex is already running (job {holder})")
    sub = None
    try:
        sub = service.submit("reindex_all", kind="reindex", idempotency_key=key,
                             callback_url=callback_url, delay_ms=delay_ms,
                             summary={"from": live, "to": wanted_id, "reason": reason})
    finally:
        adopt(client, token, sub.job["id"] if sub else None)
    return sub


# -- what to re-embed --------------------------------------------------------------------------
DOC_FIELDS = ("product_id", "name", "description", "metadata", "blob_key", "created_ts")


def snapshot(client: Any) -> list[dict[str, Any]]:
    """Every stored image that is (or is about to be) indexed, as ``embed`` items."""
    from actors.embed.records import FAILED

    keys = [k for k in client.scan_iter(match=f"{PREFIX}:image:*", count=1000)
            if k.count(b":") == 2]
    items = []
    for start in range(0, len(keys), 500):
        pipe = client.pipeline(transaction=False)
        for key in keys[start:start + 500]:
            pipe.hmget(key, "status", *DOC_FIELDS)
        for key, values in zip(keys[start:start + 500], pipe.execute(), strict=True):
            status, *fields = (json.loads(v) if v is not None else None for v in values)
            doc = {f: v for f, v in zip(DOC_FIELDS, fields, strict=True) if v is not None}
            if status is None or status == FAILED or not doc.get("blob_key"):
                continue
            items.append({"image_id": key.decode().rsplit(":", 1)[1],
                          "blob_key": doc["blob_key"], "doc": doc})
    return sorted(items, key=lambda i: i["image_id"])


def wanted(client: Any, model_id: str) -> bool:
    """The schedule's test: the configured model is not the live one (and a rollback did not
    just leave it)."""
    state = models.read_state(client)
    return bool(state.get("live")) and model_id not in (state["live"], state.get("rolled_back"))


# -- the coordinator ---------------------------------------------------------------------------
@dataclass
class Reindexer:
    client: Any
    spec: models.ModelSpec
    #: ``admin(op, **kwargs)``: an ``index_admin`` call on the index owner.
    admin: Callable[..., dict[str, Any]]
    #: ``send(items, chunk, run)``: one ``reembed_images`` message for run ``run``.
    send: Callable[[list[dict[str, Any]], int, str], None]
    progress: Callable[..., None]
    cancelled: Callable[[], bool]
    chunk_size: int = 32
    window: int = 8
    stall_s: float = 900.0
    poll_s: float = 0.5
    settle_s: float = 60.0

    def run(self, job_id: str) -> dict[str, Any]:
        """``job_id`` names this run's book-keeping; a run started again after a crash gets
        keys of its own (chunks of the first run still in flight count for nothing)."""
        started = time.time()
        job_id = f"{job_id}.{uuid.uuid4().hex[:8]}"
        plan = self.admin("prepare", spec=_spec_dict(self.spec))
        if plan["target"] == plan["live"]:
            return {"status": "current", "live": plan["live"], "model_id": self.spec.model_id}
        models.set_state(self.client, target=self.spec.model_id)
        try:
            items = snapshot(self.client)
            self._fill(job_id, items, plan)
            counts = self._matching_counts(plan)
            switched = self.admin("switch", model_id=self.spec.model_id,
                                  expect_live=plan["live"])
        finally:
            if models.read_state(self.client).get("target") == self.spec.model_id:
                models.set_state(self.client, target=None)
        if switched.get("error"):
            raise PermanentError(switched["error"], kind="conflict")
        return {"status": "switched", **switched, "model_id": self.spec.model_id,
                "images": len(items), "counts": counts,
                "seconds": round(time.time() - started, 1)}

    def _fill(self, job_id: str, items: list[dict[str, Any]], plan: dict[str, Any]) -> None:
        size = self.chunk_size
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        total, sent, last, moved_at = len(items), 0, -1, time.monotonic()
        self.progress(0, total, target=plan["target"], live=plan["live"])
        while True:
            done_chunks = {int(c) for c in self.client.smembers(_key(job_id, "chunks"))}
            while sent < len(chunks) and sent - len(done_chunks) < self.window:
                self.send(chunks[sent], sent, job_id)
                sent += 1
            done = sum(len(chunks[c]) for c in done_chunks if c < len(chunks))
            failed = self.client.hlen(_key(job_id, "failed"))
            self.progress(done, total, failed=failed, target=plan["target"], live=plan["live"])
            if len(done_chunks) >= len(chunks):
                break
            if done != last:
                last, moved_at = done, time.monotonic()
            elif time.monotonic() - moved_at > self.stall_s:
                raise PermanentError(f"no image re-embedded for {self.stall_s:g} s ({done} of "
                                     f"{total} done); the alias stays on {plan['live']}",
                                     kind="stalled")
            if self.cancelled():
                raise JobCancelled("reindex cancelled; the alias stays on " + plan["live"])
            time.sleep(self.poll_s)
        failures = self.client.hgetall(_key(job_id, "failed"))
        if failures:
            first = "; ".join(f"{k.decode()}: {v.decode()}" for k, v in list(failures.items())[:5])
            raise PermanentError(f"{len(failures)} of {total} images could not be re-embedded "
                                 f"({first}); the alias stays on {plan['live']}",
                                 kind="reindex_failed")

    def _matching_counts(self, plan: dict[str, Any]) -> dict[str, int]:
        """Both collections' counts, once equal (uploads written to both may be in flight)."""
        deadline = time.monotonic() + self.settle_s
        while True:
            counts = self.admin("counts", collections=[plan["target"], plan["live"]])
            if counts[plan["target"]] == counts[plan["live"]]:
                return counts
            if time.monotonic() > deadline:
                raise PermanentError(
                    f"counts differ after re-embedding: {plan['target']} holds "
                    f"{counts[plan['target']]}, {plan['live']} {counts[plan['live']]}; the "
                    f"alias stays on {plan['live']}", kind="count_mismatch")
            time.sleep(self.poll_s)


def _spec_dict(spec: models.ModelSpec) -> dict[str, Any]:
    return {"model_id": spec.model_id, "model_name": spec.model_name,
            "pretrained": spec.pretrained, "dim": spec.dim}
