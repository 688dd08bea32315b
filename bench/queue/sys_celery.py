"""Celery on Redis, no result backend: the threads pool, and prefork at the same total
concurrency (``processes × threads`` child processes)."""

from __future__ import annotations

from bench.queue.common import BIN, Adapter


class CeleryThreadsAdapter(Adapter):
    """One ``celery worker --pool threads --concurrency T`` per process."""

    name = "celery-threads"
    db = 4

    def start(self) -> None:
        for i in range(self.processes):
            self.spawn(f"worker{i}", [str(BIN / "celery"), "-A", "bench.queue.tasks_celery",
                                      "worker", "--pool", "threads",
                                      "--concurrency", str(self.threads),
                                      "-n", f"bench{i}@%h"])
        from bench.queue import tasks_celery as tasks

        self.tasks = {"noop": tasks.noop, "sleep": tasks.sleep}

    def submit(self, kind: str, tag: str) -> str:
        self.tasks[kind].delay(tag)
        return tag

    def close(self) -> None:
        from bench.queue import tasks_celery as tasks

        tasks.app.close()
        super().close()


class CeleryPreforkAdapter(CeleryThreadsAdapter):
    """One ``celery worker --concurrency P×T`` (prefork: that many child processes)."""

    name = "celery-prefork"
    db = 5

    def shape(self) -> str:
        return f"1 worker, prefork × {self.processes * self.threads} proc"

    def start(self) -> None:
        self.spawn("worker", [str(BIN / "celery"), "-A", "bench.queue.tasks_celery", "worker",
                              "--concurrency", str(self.processes * self.threads),
                              "-n", "bench@%h"])
        from bench.queue import tasks_celery as tasks

        self.tasks = {"noop": tasks.noop, "sleep": tasks.sleep}
