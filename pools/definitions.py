"""The pools: which queues each hosts and how its processes are shaped."""

from __future__ import annotations

from dataclasses import dataclass

from config import queues as q
from config.settings import PoolSpec, Settings


@dataclass(frozen=True)
class Pool:
    name: str
    queues: tuple[str, ...]
    spec: PoolSpec
    per_gpu: bool = False
    description: str = ""
    #: How often an idle consumer polls (ms): low for pools answering interactive requests.
    poll_ms: int = 1000


def pools(settings: Settings) -> dict[str, Pool]:
    p = settings.pools
    return {
        "cpu": Pool("cpu", (q.SOLVE, q.SCRAPE, q.NOTIFY, q.DIAG, q.SCHEDULE, q.HTTP,
                            q.REINDEX), p.cpu,
                    description="rostering, scraping, webhooks, schedules, HTTP jobs, the "
                                "reindex coordinator"),
        "solve": Pool("solve", (q.SOLVE,), p.solve,
                      description="rostering only: one CP-SAT search per thread"),
        "scrape": Pool("scrape", (q.SCRAPE, q.NOTIFY, q.HTTP), p.scrape,
                       description="network-bound: many domains and HTTP jobs in flight "
                                   "per process"),
        "gpu": Pool("gpu", (q.GPU_QUERY, q.GPU), p.gpu, per_gpu=True, poll_ms=100,
                    description="CLIP embeddings, one process per GPU"),
        "index": Pool("index", (q.INDEX_QUERY, q.INDEX), p.index, poll_ms=100,
                      description="vector-store owner: upserts and search"),
    }


def get_pool(settings: Settings, name: str) -> Pool:
    known = pools(settings)
    if name not in known:
        raise KeyError(f"unknown pool {name!r}; known pools: {', '.join(known)}")
    return known[name]
