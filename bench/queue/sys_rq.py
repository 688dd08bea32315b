"""RQ: ``rq worker-pool -n P×T`` (RQ has no threads: one job at a time per worker process,
each job in a forked work horse), ``Queue.enqueue``."""

from __future__ import annotations

from rq import Queue

from bench.queue import tasks_rq
from bench.queue.common import BIN, Adapter


class RqAdapter(Adapter):
    name = "rq"
    db = 6

    def shape(self) -> str:
        return f"{self.processes * self.threads} worker proc (no threads)"

    def start(self) -> None:
        self.spawn("pool", [str(BIN / "rq"), "worker-pool", "-n",
                            str(self.processes * self.threads), "-u", self.url, "bench"])
        self.queue = Queue("bench", connection=self.redis)
        self.funcs = {"noop": tasks_rq.noop, "sleep": tasks_rq.sleep}

    def submit(self, kind: str, tag: str) -> str:
        self.queue.enqueue(self.funcs[kind], tag)
        return tag
