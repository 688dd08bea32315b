"""The per-process HTTP-job runtime: one asyncio loop, one guarded client, one Redis client.

Created at worker boot for processes that consume ``http``. The actor hands each call to the
loop and returns at once (``pools.deferred``): a process keeps ``http.max_in_flight`` calls in
flight on one thread, however few worker threads it has.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import threading
import time
from collections.abc import Coroutine
from typing import Any

import httpx

from actors.http.call import CallSpec, Outcome, RetryableCall, attempt
from config.queues import PREFIX, job_key
from config.settings import Settings
from pools.errors import JobCancelled, JobError
from pools.net.netguard import allowed_networks
from pools.net.transport import GuardedTransport

log = logging.getLogger(__name__)
CANCEL_POLL_S = 1.0


def attempts_key(job_id: str) -> str:
    return f"{PREFIX}:http:{job_id}:attempts"


class HttpRuntime:
    def __init__(self, settings: Settings) -> None:
        import redis.asyncio as aioredis

        from pools.broker import redis_url

        self.settings = settings.http
        self.record_ttl_s = settings.jobs.record_ttl_s
        self.grace_s = settings.pools.shutdown_timeout_ms / 1000
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="http-loop",
                                       daemon=True)
        self.thread.start()
        self.allowed = allowed_networks(self.settings.allowed_networks)
        self.redis = aioredis.from_url(redis_url(settings))
        self._inflight: set[concurrent.futures.Future] = set()
        self._lock = threading.Lock()
        self._calls: dict[str, asyncio.Future] = {}  # job id → its call (loop thread only)
        self._cancelled: set[str] = set()
        self._watcher: asyncio.Future | None = None

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        with self._lock:
            self._inflight.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: concurrent.futures.Future) -> None:
        with self._lock:
            self._inflight.discard(future)

    def in_flight(self) -> int:
        with self._lock:
            return len(self._inflight)

    def call(self, job_id: str, spec: CallSpec, attempt_no: int) -> concurrent.futures.Future:
        """Start one attempt of job ``job_id``; the future holds its result or typed error."""
        return self.submit(self._call(job_id, spec, attempt_no))

    async def _call(self, job_id: str, spec: CallSpec, attempt_no: int) -> dict[str, Any]:
        task = asyncio.ensure_future(self._attempt(job_id, spec, attempt_no))
        self._calls[job_id] = task
        if self._watcher is None:
            self._watcher = asyncio.ensure_future(self._watch_cancels())
        try:
            return await task
        except asyncio.CancelledError:
            if job_id in self._cancelled:  # the job's cancel flag, not a shutdown
                self._cancelled.discard(job_id)
                raise JobCancelled("HTTP call cancelled on request") from None
            raise
        finally:
            self._calls.pop(job_id, None)

    async def _watch_cancels(self) -> None:
        """Every ``CANCEL_POLL_S``: one round trip reads the cancel flags of every call in
        flight; a flagged call is stopped (its job ends ``cancelled``)."""
        while True:
            await asyncio.sleep(CANCEL_POLL_S)
            ids = list(self._calls)
            if not ids:
                continue
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for job_id in ids:
                        pipe.hget(job_key(job_id), "cancel_requested")
                    flags = await pipe.execute()
            except Exception:  # Redis away: ask again next time
                continue
            for job_id, flag in zip(ids, flags, strict=True):
                task = self._calls.get(job_id)
                if flag and flag not in (b"0", b"") and task is not None:
                    self._cancelled.add(job_id)
                    task.cancel()

    async def _attempt(self, job_id: str, spec: CallSpec, attempt_no: int) -> dict[str, Any]:
        started = time.time()
        try:
            async with self._client() as client:
                outcome = await attempt(client, spec,
                                        response_bytes=self.settings.response_bytes,
                                        retry_after_cap_s=self.settings.max_retry_after_s)
        except JobError as exc:
            entry = {"attempt": attempt_no, "started_at": started, "error_type": exc.kind,
                     "error": exc.message[:500], "latency_ms": _ms_since(started)}
            if isinstance(exc, RetryableCall):
                entry.update(status_code=exc.status, retry_in_ms=exc.delay)
            await self._record(job_id, entry)
            raise
        await self._record(job_id, {"attempt": attempt_no, "started_at": started,
                                    "status_code": outcome.status_code,
                                    "latency_ms": outcome.latency_ms})
        return {**outcome.asdict(), "attempt": attempt_no,
                "attempts": await self._attempts(job_id)}

    def _client(self) -> httpx.AsyncClient:
        """A client of its own per call (one connection, closed after): httpcore's pool scans
        every connection it holds for each request, so one pool of 1,000 connections costs
        more CPU than a thousand pools of one; scheduled calls gain little from keep-alive."""
        transport = GuardedTransport(allowed=self.allowed, max_connections=1)
        return httpx.AsyncClient(transport=transport, trust_env=False,
                                 headers={"User-Agent": self.settings.user_agent})

    async def _record(self, job_id: str, entry: dict[str, Any]) -> None:
        """Append to the job's attempt history (book-keeping: never fails the call)."""
        key = attempts_key(job_id)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.rpush(key, json.dumps(entry))
                pipe.ltrim(key, -self.settings.attempts_kept, -1)
                pipe.expire(key, self.record_ttl_s)
                await pipe.execute()
        except Exception:  # Redis away: the outcome itself still goes through the committer
            log.debug("attempt of job %s not recorded", job_id, exc_info=True)

    async def _attempts(self, job_id: str) -> list[dict[str, Any]]:
        try:
            return [json.loads(x) for x in await self.redis.lrange(attempts_key(job_id), 0, -1)]
        except Exception:
            return []

    def close(self) -> None:
        """Let calls in flight finish within the shutdown grace; cancel the rest (their
        messages stay unacknowledged and are put back on the queue)."""
        with self._lock:
            pending = list(self._inflight)
        _, left = concurrent.futures.wait(pending, timeout=self.grace_s)
        for future in left:
            future.cancel()
        try:
            asyncio.run_coroutine_threadsafe(self._aclose(), self.loop).result(timeout=5)
        except Exception:
            log.debug("http runtime did not close cleanly", exc_info=True)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    async def _aclose(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        await self.redis.aclose()


def _ms_since(started: float) -> float:
    return round((time.time() - started) * 1000, 1)


__all__ = ["HttpRuntime", "Outcome", "attempts_key"]
