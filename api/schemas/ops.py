"""Schemas of the operational routes: queues, dead letters, workers, health."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class QueueStats(BaseModel):
    queue: str = Field(examples=["solve"])
    ready: int = Field(examples=[4])
    delayed: int = Field(examples=[0])
    in_flight: int = Field(examples=[2])
    dead: int = Field(examples=[1])


class DeadLetter(BaseModel):
    message_id: str
    job_id: str
    actor: str | None
    queue: str
    dead_at: float
    retries: int
    traceback: str | None = None
    error: dict[str, str] | None = Field(
        None, description="The job's last error, from its record.",
        examples=[{"type": "transient", "message": "flaky: run 4 fails"}])


class Purged(BaseModel):
    purged: list[str] = Field(examples=[["3f0c6c1e4b8a4f7f9d0e2a1b5c6d7e8f"]])


class RequeueRequest(BaseModel):
    message_ids: list[str] | None = Field(
        None, description="Dead letters to requeue; omit (or send `all: true`) for all.",
        examples=[["3f0c6c1e4b8a4f7f9d0e2a1b5c6d7e8f"]])
    all: bool = Field(False, description="Requeue every dead letter of the queue.")


class Requeued(BaseModel):
    requeued: list[str]


class Worker(BaseModel):
    id: str = Field(examples=["node-1-4242-a1b2c3"])
    pool: str = Field(examples=["gpu"])
    host: str
    pid: int
    queues: list[str] = Field(examples=[["gpu"]])
    device: str = "cpu"
    started_at: float
    last_seen: float
    processed: int = 0
    extra: dict[str, Any] = Field(default_factory=dict)


class Ready(BaseModel):
    ready: bool
    broker: bool
    job_store: bool
    workers_by_pool: dict[str, int] = Field(examples=[{"cpu": 1, "gpu": 0}])
    detail: str | None = None
