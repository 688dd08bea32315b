"""Huey: ``huey_consumer -w T -k thread``, one consumer process per process (P consumers on the
same queue for the 2-process configuration)."""

from __future__ import annotations

from bench.queue.common import BIN, Adapter


class HueyAdapter(Adapter):
    name = "huey"
    db = 8

    def shape(self) -> str:
        return f"{self.processes} consumer × {self.threads} thr"

    def start(self) -> None:
        for i in range(self.processes):
            self.spawn(f"consumer{i}", [str(BIN / "huey_consumer"),
                                        "bench.queue.tasks_huey.huey",
                                        "-w", str(self.threads), "-k", "thread"])
        from bench.queue import tasks_huey as tasks

        self.tasks = {"noop": tasks.noop, "sleep": tasks.sleep}

    def submit(self, kind: str, tag: str) -> str:
        self.tasks[kind](tag)
        return tag
