"""taskiq + taskiq-redis ``ListQueueBroker``: ``taskiq worker --workers P --max-async-tasks T``,
``await task.kiq(...)`` from one event loop (the client's one thread)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from bench.queue.common import BIN, Adapter, Batch


class TaskiqAdapter(Adapter):
    name = "taskiq"
    db = 7

    def shape(self) -> str:
        return f"{self.processes} proc × {self.threads} async"

    def start(self) -> None:
        self.spawn("worker", [str(BIN / "taskiq"), "worker", "bench.queue.tasks_taskiq:broker",
                              "--workers", str(self.processes),
                              "--max-async-tasks", str(self.threads)])
        from bench.queue import tasks_taskiq as tasks

        self.tasks = {"noop": tasks.noop, "sleep": tasks.sleep}
        self.broker = tasks.broker
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.broker.startup())

    def submit(self, kind: str, tag: str) -> str:
        self.loop.run_until_complete(self.tasks[kind].kiq(tag))
        return tag

    def submit_many(self, kind: str, tags: Sequence[str]) -> Batch:
        task = self.tasks[kind]

        async def all_of_them() -> Batch:
            lat = []
            clock = time.perf_counter
            started = clock()
            for tag in tags:
                t0 = clock()
                await task.kiq(tag)
                lat.append(clock() - t0)
            return Batch(list(tags), clock() - started, lat)

        return self.loop.run_until_complete(all_of_them())

    def close(self) -> None:
        if getattr(self, "loop", None) is not None:
            self.loop.run_until_complete(self.broker.shutdown())
            self.loop.close()
        super().close()
