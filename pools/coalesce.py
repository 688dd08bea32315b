"""Group submit: the scripts of submissions made together on one event loop share a round trip.

An API process under load has many requests in flight on its event loop. Each sent its
submit script alone: a connection taken from the pool, one write, one read, the connection
given back. ``Coalescer.run`` queues the script's keys and arguments instead; the first
caller of a loop iteration schedules a flush for the next one, and the flush sends every
queued call as one pipeline (no MULTI: each script is atomic on its own, and independent);
a call alone in its iteration goes out as one plain ``EVALSHA``: a pipeline of one cost
107-142 µs of client CPU against 80-92 µs for the command alone (40 arguments), and spread
out, most flushes carry one or two calls (docs/benchmarks.md, eleventh session).

Contract: ``run`` returns the script's reply or raises its error, exactly as a lone
``EVALSHA`` would, one call's error never touches another's; a script flushed from the server
(a restart) is loaded again and only the calls that met ``NOSCRIPT`` are sent again; when the
connection fails, every call of that flush gets the error (as each would have alone, so none
is reported accepted that may not have been).
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.exceptions import NoScriptError, ResponseError

Call = tuple[list[str], list[Any], asyncio.Future]


class Coalescer:
    def __init__(self, client: Any, script: str) -> None:
        self.client, self.script = client, script
        self.sha: str | None = None
        self.pending: list[Call] = []
        self.flushes = 0  # pipelines sent (for tests and curiosity)

    async def run(self, keys: list[str], args: list[Any]) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.pending.append((keys, args, future))
        if len(self.pending) == 1:
            loop.call_soon(self._start_flush, loop)
        return await future

    def _start_flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self.pending = self.pending, []
        loop.create_task(self._flush(batch))

    async def _flush(self, batch: list[Call]) -> None:
        self.flushes += 1
        try:
            replies = await self._send(batch)
            stale = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if stale:  # the server lost its scripts (a restart): load, send those again
                self.sha = None
                for i, reply in zip(stale, await self._send([batch[i] for i in stale]),
                                    strict=True):
                    replies[i] = reply
        except BaseException as exc:  # handed to every caller of this flush
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, _, future), reply in zip(batch, replies, strict=True):
            if future.done():  # its caller gave up (cancelled)
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _send(self, batch: list[Call]) -> list[Any]:
        if self.sha is None:
            self.sha = await self.client.script_load(self.script)
        if len(batch) == 1:  # alone (a light load): one command costs a third less CPU
            keys, args, _ = batch[0]
            try:
                return [await self.client.evalsha(self.sha, len(keys), *keys, *args)]
            except ResponseError as exc:  # the script's own error, as a pipeline returns it
                return [exc]
        pipe = self.client.pipeline(transaction=False)
        for keys, args, _ in batch:
            pipe.evalsha(self.sha, len(keys), *keys, *args)
        return await pipe.execute(raise_on_error=False)
