"""Raw Dramatiq: ``python -m dramatiq --processes P --threads T``, ``actor.send``."""

from __future__ import annotations

import sys
from typing import Any

from bench.queue.common import Adapter


class DramatiqAdapter(Adapter):
    name = "dramatiq"
    db = 3
    module = "bench.queue.tasks_dramatiq"

    def start(self) -> None:
        self.spawn("worker", [sys.executable, "-m", "dramatiq", self.module,
                              "--processes", str(self.processes),
                              "--threads", str(self.threads)])
        self.actors = self._actors()

    def _actors(self) -> dict[str, Any]:
        from bench.queue import tasks_dramatiq as tasks

        return {"noop": tasks.noop, "sleep": tasks.sleep}

    def submit(self, kind: str, tag: str) -> str:
        self.actors[kind].send(tag)
        return tag
