"""A dynamic batcher: many threads submit items, one runner thread runs them in batches.

A batch runs when ``max_batch`` items wait or when the oldest has waited ``max_wait_ms``.
Urgent items (interactive queries) go to the front and their batch runs at once.
``run(items)`` returns one result per item; a slot holding an ``Exception`` fails only that
item's future. If ``run`` raises out-of-memory the batch is halved and each half retried, down
to ``min_batch``; the halved limit stays for the next batches and doubles back after
``recover_after`` successful batches. The runner thread starts on the first submit.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from pools.errors import TransientError

T = TypeVar("T")
R = TypeVar("R")


class BatchOutOfMemory(TransientError):
    """Out of memory even at the smallest batch size: retry the job later."""

    kind = "out_of_memory"


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA OOM (or anything reporting 'out of memory', like the simulated budget)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, (RuntimeError, MemoryError)) and "out of memory" in str(exc).lower()


@dataclass(frozen=True)
class BatcherStats:
    """Counters for metrics: sizes and waits of the last batch, totals, OOM halvings."""

    last_batch_size: int = 0
    last_wait_ms: float = 0.0
    last_run_ms: float = 0.0
    batches: int = 0
    items: int = 0
    oom_events: int = 0
    batch_limit: int = 0
    queue_depth: int = 0


@dataclass
class _Pending(Generic[T]):
    item: T
    future: Future[Any]
    enqueued: float


class DynamicBatcher(Generic[T, R]):
    def __init__(
        self,
        run: Callable[[list[T]], Sequence[R | Exception]],
        *,
        max_batch: int,
        max_wait_ms: float,
        min_batch: int = 1,
        recover_after: int = 50,
        on_oom: Callable[[BaseException], None] | None = None,
        name: str = "batcher",
    ) -> None:
        if max_batch < 1 or min_batch < 1 or min_batch > max_batch:
            raise ValueError("need 1 <= min_batch <= max_batch")
        self._run, self._on_oom, self.name = run, on_oom, name
        self.max_batch, self.min_batch = max_batch, min_batch
        self.max_wait_s = max_wait_ms / 1000.0
        self.recover_after = recover_after
        self._limit, self._ok_since_oom = max_batch, 0
        self._queue: deque[_Pending[T]] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stats = BatcherStats(batch_limit=max_batch)
        self.batch_sizes: deque[int] = deque(maxlen=1000)  # recent run() sizes, for tests/metrics

    # -- submitting -------------------------------------------------------------------------
    def submit(self, item: T, *, urgent: bool = False) -> Future[R]:
        return self.submit_many([item], urgent=urgent)[0]

    def submit_many(self, items: Iterable[T], *, urgent: bool = False) -> list[Future[R]]:
        """Queue items; ``urgent`` ones (a search's query) go ahead of everything queued and
        their batch runs without waiting for ``max_wait_ms``."""
        now = time.monotonic()
        since = now - self.max_wait_s if urgent else now
        pending = [_Pending(item, Future(), since) for item in items]
        with self._cond:
            if self._closed:
                raise RuntimeError(f"{self.name} is closed")
            self._start_locked()
            was_empty = not self._queue
            if urgent:
                self._queue.extendleft(reversed(pending))
            else:
                self._queue.extend(pending)
            if urgent or was_empty or len(self._queue) >= self._limit:
                self._cond.notify()
        return [p.future for p in pending]

    def map(self, items: Sequence[T], timeout: float | None = None, *,
            urgent: bool = False) -> list[R | Exception]:
        """Submit and wait; each slot is the result or the item's exception."""
        results: list[R | Exception] = []
        for fut in self.submit_many(items, urgent=urgent):
            exc = fut.exception(timeout)
            results.append(exc if exc is not None else fut.result())  # type: ignore[arg-type]
        return results

    @property
    def stats(self) -> BatcherStats:
        with self._cond:
            return replace(self._stats, queue_depth=len(self._queue), batch_limit=self._limit)

    def close(self, timeout: float | None = 10.0) -> None:
        """Run what is queued, then stop the runner thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> DynamicBatcher[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the runner thread --------------------------------------------------------------------
    def _start_locked(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            wait_ms = (time.monotonic() - batch[0].enqueued) * 1000.0
            started = time.perf_counter()
            self._execute(batch)
            run_ms = (time.perf_counter() - started) * 1000.0
            with self._cond:
                s = self._stats
                self._stats = replace(
                    s,
                    last_batch_size=len(batch),
                    last_wait_ms=wait_ms,
                    last_run_ms=run_ms,
                    batches=s.batches + 1,
                    items=s.items + len(batch),
                )

    def _next_batch(self) -> list[_Pending[T]] | None:
        with self._cond:
            while not self._queue:
                if self._closed:
                    return None
                self._cond.wait()
            deadline = self._queue[0].enqueued + self.max_wait_s
            while len(self._queue) < self._limit and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            take = min(self._limit, len(self._queue))
            return [self._queue.popleft() for _ in range(take)]

    def _execute(self, batch: list[_Pending[T]]) -> None:
        live = [p for p in batch if not p.future.cancelled()]
        if not live:
            return
        self.batch_sizes.append(len(live))
        try:
            results = self._run([p.item for p in live])
        except Exception as exc:
            self._failed(live, exc)
            return
        if len(results) != len(live):
            err = RuntimeError(f"run() returned {len(results)} results for {len(live)} items")
            self._settle(live, [err] * len(live))
            return
        self._succeeded()
        self._settle(live, results)

    def _failed(self, live: list[_Pending[T]], exc: Exception) -> None:
        if not is_out_of_memory(exc):
            self._settle(live, [exc] * len(live))
            return
        if self._on_oom is not None:
            self._on_oom(exc)
        with self._cond:
            self._stats = replace(self._stats, oom_events=self._stats.oom_events + 1)
            self._ok_since_oom = 0
        if len(live) <= self.min_batch:
            err = BatchOutOfMemory(f"out of memory at batch size {len(live)}: {exc}")
            self._settle(live, [err] * len(live))
            return
        half = max(self.min_batch, len(live) // 2)
        with self._cond:
            self._limit = min(self._limit, half)
        start = 0
        while start < len(live):  # re-read the limit: a nested OOM may have lowered it
            size = max(self.min_batch, self._limit)
            self._execute(live[start : start + size])
            start += size

    def _succeeded(self) -> None:
        with self._cond:
            if self._limit >= self.max_batch:
                return
            self._ok_since_oom += 1
            if self._ok_since_oom >= self.recover_after:
                self._limit = min(self.max_batch, self._limit * 2)
                self._ok_since_oom = 0

    @staticmethod
    def _settle(live: list[_Pending[T]], results: Sequence[Any]) -> None:
        for p, res in zip(live, results, strict=True):
            try:
                if isinstance(res, BaseException):
                    p.future.set_exception(res)
                else:
                    p.future.set_result(res)
            except InvalidStateError:  # cancelled by its submitter meanwhile
                continue
