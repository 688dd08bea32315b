"""repertory's job path without HTTP: ``JobService.submit`` (record + message in one
transaction) to bench actors on the product's broker, run by plain ``dramatiq``.

A job is done when its record is ``succeeded`` (written by the job-state middleware after
the actor), so drains end at the records' last ``finished_at``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from bench.queue.common import KINDS, Adapter
from config.queues import job_index_key


class RepertoryActorsAdapter(Adapter):
    name = "repertory-actors"
    db = 2

    def start(self) -> None:
        self.spawn("worker", [sys.executable, "-m", "dramatiq", "bench.queue.rep_actors",
                              "--processes", str(self.processes),
                              "--threads", str(self.threads)], REDIS_URL=self.url)
        for key in [k for k in os.environ if k.startswith("REPERTORY_")]:
            del os.environ[key]
        os.environ["REDIS_URL"] = self.url
        from config.settings import get_settings

        get_settings.cache_clear()
        from bench.queue import rep_actors
        from pools.service import JobService

        self.service = JobService(get_settings(), rep_actors.broker)
        self.job_ids: dict[str, str] = {}

    def submit(self, kind: str, tag: str) -> str:
        self.job_ids[tag] = self.service.submit(kind, kind=f"bench-{kind}", args=(tag,)).job["id"]
        return tag

    def done_count(self) -> int:
        pipe = self.redis.pipeline(transaction=False)
        for kind in KINDS:
            pipe.zcard(job_index_key(kind=f"bench-{kind}", status="succeeded"))
        return sum(pipe.execute())

    def outcomes(self, handles: Sequence[str]) -> dict[str, tuple[float, float]]:
        ran = super().outcomes(handles)
        ids = [self.job_ids[h] for h in handles if h in self.job_ids]
        finished = {}
        for i in range(0, len(ids), 1000):
            for record in self.service.store.get_many(ids[i:i + 1000]):
                if record.get("finished_at"):
                    finished[record["id"]] = float(record["finished_at"])
        return {tag: (start, max(end, finished.get(self.job_ids[tag], end)))
                for tag, (start, end) in ran.items()}
