"""Extraction under a hard time limit: a few worker processes, killed and replaced on timeout.

``ProcessPoolExecutor`` cannot stop one running task, so this keeps its own processes, each
talking over a pipe. A call waits for the answer up to ``timeout_s``; past it the process is
killed (SIGKILL) and a fresh one started, so a pathological page cannot stall a worker.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from actors.scrape.outcomes import Outcome, ScrapeError


def _serve(conn: Connection) -> None:
    while True:
        try:
            func, args, kwargs = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        try:
            conn.send((True, func(*args, **kwargs)))
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            conn.send((False, f"{type(exc).__name__}: {exc}"))


class _Worker:
    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class ExtractionTimeout(ScrapeError):
    def __init__(self, message: str) -> None:
        super().__init__(Outcome.TIMEOUT, message)


class ExtractionCrashed(ScrapeError):
    """The extraction process died (a crash in a C extension, an out-of-memory kill)."""

    def __init__(self, message: str) -> None:
        super().__init__(Outcome.EXTRACT_FAILED, message)


class ProcessPool:
    """``await pool.run(func, *args, timeout_s=...)`` in a killable child process."""

    def __init__(self, size: int = 2, *, start_method: str = "spawn") -> None:
        self._ctx = mp.get_context(start_method)
        self._size = size
        self._idle: asyncio.Queue[_Worker] | None = None
        self._all: set[_Worker] = set()
        self.killed = 0

    async def start(self) -> ProcessPool:
        self._idle = asyncio.Queue()
        for _ in range(self._size):
            await self._idle.put(await self._spawn())
        return self

    async def _spawn(self) -> _Worker:
        worker = await asyncio.to_thread(_Worker, self._ctx)
        self._all.add(worker)
        return worker

    async def _wait_readable(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        loop.add_reader(conn.fileno(), lambda: ready.done() or ready.set_result(None))
        try:
            await ready
        finally:
            loop.remove_reader(conn.fileno())

    async def run(self, func: Callable[..., Any], *args: Any, timeout_s: float,
                  **kwargs: Any) -> Any:
        if self._idle is None:
            await self.start()
        assert self._idle is not None
        worker = await self._idle.get()
        try:
            worker.conn.send((func, args, kwargs))
            async with asyncio.timeout(timeout_s):
                await self._wait_readable(worker.conn)
            ok, value = worker.conn.recv()
        except (TimeoutError, EOFError, OSError, asyncio.CancelledError) as exc:
            self._all.discard(worker)
            worker.kill()
            self.killed += 1
            replacement = await asyncio.shield(self._spawn())
            await self._idle.put(replacement)
            if isinstance(exc, asyncio.CancelledError):
                raise
            if isinstance(exc, TimeoutError):
                raise ExtractionTimeout(f"extraction stopped after {timeout_s}s") from exc
            raise ExtractionCrashed("the extraction process died (exit code "
                                    f"{worker.process.exitcode})") from exc
        await self._idle.put(worker)
        if not ok:
            raise RuntimeError(value)
        return value

    async def close(self) -> None:
        for worker in list(self._all):
            worker.kill()
        self._all.clear()
        self._idle = None

    async def __aenter__(self) -> ProcessPool:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
