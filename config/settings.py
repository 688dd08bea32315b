"""The settings tree.

Every value can be set from the environment with the ``REPERTORY_`` prefix and ``__`` between
levels, e.g. ``REPERTORY_JOBS__MAX_RETRIES=3`` or ``REPERTORY_POOLS__CPU__THREADS=8``. The plain
``REDIS_URL`` and ``QDRANT_URL`` are accepted too. Invalid values fail at start with a message
naming the variable (see ``describe_error``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.clip import ClipSettings
from config.http import HttpJobSettings
from config.qdrant import QdrantSettings
from config.scrape import ScrapeSettings
from config.solve import SolveSettings

ENV_PREFIX = "REPERTORY_"


class RedisSettings(BaseModel):
    url: SecretStr | None = Field(
        None,
        description="Redis/Valkey URL (redis:// or rediss://, password allowed). "
        "Unset: an embedded Valkey is started under var/valkey.",
    )
    embedded_port: int = Field(6390, description="Port of the embedded Valkey server.")
    namespace: str = Field("dramatiq", description="Broker key namespace.")
    heartbeat_timeout_ms: int = Field(
        60_000,
        ge=500,
        description="A worker silent this long is dead and its unacked messages are requeued. "
        "Lower = faster recovery after a crash, but a worker stalled longer than this "
        "(long GC pause, blocked event loop) has its messages run twice.",
    )
    maintenance_chance: int = Field(
        1_000,
        ge=0,
        le=1_000_000,
        description="Broker calls per million that run queue maintenance (requeue dead "
        "workers' messages, expire dead letters). Dramatiq's default is 1000 (0.1%).",
    )
    dead_message_ttl_ms: int = Field(7 * 86_400_000, description="How long dead letters are kept.")
    maintenance_interval_s: float = Field(
        1.0, gt=0, le=60,
        description="Every worker runs the broker's maintenance on every queue this often "
        "(and once at boot): a dead worker's messages are requeued within the heartbeat "
        "timeout plus this, on an idle stack as on a busy one. It is also the broker heartbeat.",
    )
    reconcile_interval_s: float = Field(
        10.0, gt=0, description="How often one worker (a lease) checks that every active "
        "job record still has a message somewhere, and repairs those that do not.",
    )
    reconcile_after_s: float = Field(
        30.0, ge=0, description="A job record is only checked by the reconciler once it "
        "has not changed for this long (never while it is being submitted or retried).",
    )

    def url_value(self) -> str | None:
        return self.url.get_secret_value() if self.url else None


class JobSettings(BaseModel):
    max_retries: int = Field(5, ge=0, description="Retries of a transient failure.")
    min_backoff_ms: int = Field(1_000, ge=1, description="First retry delay.")
    max_backoff_ms: int = Field(300_000, ge=1, description="Longest retry delay.")
    time_limit_ms: int = Field(600_000, ge=100, description="Default actor time limit.")
    result_ttl_s: int = Field(86_400, ge=1, description="How long results are kept.")
    record_ttl_s: int = Field(7 * 86_400, ge=60, description="Finished job records expire after.")
    idempotency_ttl_s: int = Field(86_400, ge=1, description="Idempotency-Key lifetime.")


class NotifySettings(BaseModel):
    timeout_s: float = Field(30.0, gt=0, description="Webhook POST timeout.")
    max_retries: int = Field(8, ge=0, description="Webhook retries before dead-lettering.")
    min_backoff_ms: int = Field(1_000, ge=1)
    max_backoff_ms: int = Field(600_000, ge=1)
    allow_private_targets: bool = Field(
        False, description="Allow callback URLs on loopback/private addresses (tests, on-prem)."
    )
    signing_secret: SecretStr | None = Field(
        None, description="When set, every webhook carries X-Repertory-Signature: "
        "sha256=<HMAC of the body with this secret>, so receivers can verify the sender.",
    )


class ApiSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Bind address.")
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(
        2, ge=1, le=64, description="API processes (uvicorn workers) behind the one port: "
        "submissions are CPU-bound in Python, so one per core the API may use.")
    max_list_limit: int = Field(500, ge=1, description="Largest page for list routes.")
    rpc_timeout_s: float = Field(
        30.0, gt=0, description="How long search and image routes wait for a gpu or index "
        "worker before answering 503.")
    token: SecretStr | None = Field(
        None, description="When set, /v1 routes require 'Authorization: Bearer <token>' "
        "(health, readiness and metrics stay open for probes and scrapers).",
    )
    max_body_bytes: int = Field(
        1024 * 1024, ge=1,
        description="Largest request body on routes without a limit of their own (POST "
        "/v1/solve: solve.max_text_bytes, POST /v1/images: clip.images.max_request_bytes, "
        "POST /v1/search/image: clip.images.max_bytes); bigger: HTTP 413 before reading it.",
    )
    fast_submit: bool = Field(
        True, description="Answer the plain success case of single-job JSON submit routes "
        "(api.fastpath) without FastAPI's per-request machinery; anything else still goes "
        "through the route. Off: every request goes through FastAPI.")


class PoolSpec(BaseModel):
    processes: int = Field(1, ge=1, description="Worker processes (GPU pool: one per GPU).")
    threads: int = Field(4, ge=1, description="Worker threads per process.")
    prefetch: int = Field(0, ge=0, description="Messages prefetched per process (0: 2 × threads).")


class PoolSettings(BaseModel):
    cpu: PoolSpec = PoolSpec(processes=1, threads=8)
    solve: PoolSpec = PoolSpec(processes=1, threads=1)
    scrape: PoolSpec = PoolSpec(processes=1, threads=64, prefetch=64)
    gpu: PoolSpec = PoolSpec(processes=1, threads=16, prefetch=64)
    index: PoolSpec = PoolSpec(processes=1, threads=2)
    max_tasks_per_child: int = Field(
        0, ge=0, description="Recycle a worker process after this many messages (0: never)."
    )
    heartbeat_interval_s: float = Field(5.0, gt=0, description="Worker heartbeat period.")
    current: str | None = Field(None, description="Set by the launcher: this process's pool.")
    shutdown_timeout_ms: int = Field(30_000, ge=100, description="Grace period on stop.")


class ScheduleSettings(BaseModel):
    cleanup_cron: str = Field("17 * * * *", description="Prune expired job index entries.")
    reindex_cron: str = Field("*/30 * * * *", description="Start a blue/green reindex when "
                              "the model settings changed; otherwise optimize the live index.")
    rescrape_cron: str = Field("0 3 * * *", description="Re-scrape stale domains.")
    rescrape_after_days: int = Field(30, ge=1, description="A domain is stale after this.")
    leader_lease_s: float = Field(
        10.0, ge=0.5, le=300, description="Any number of `repertory scheduler` may run; one "
        "holds this Redis lease and sends. A standby takes over within this long after the "
        "leader dies (at once when it stops cleanly).")
    poll_s: float = Field(1.0, gt=0, le=60, description="How often the scheduler looks for due "
                          "ticks and changed schedules (and a standby for a free lease).")
    misfire_grace_s: float = Field(
        30.0, ge=0, description="A tick not sent within this long of its planned time was "
        "missed (no scheduler ran): its schedule's `missed` policy (skip or run_once) applies.")
    ledger_size: int = Field(100, ge=1, le=10_000, description="Runs kept per schedule.")
    max_user_schedules: int = Field(1_000, ge=0, description="User schedules allowed at once.")


class LoggingSettings(BaseModel):
    format: Literal["human", "json"] = Field(
        "human", description="human: one short line for a terminal; json: one JSON object a "
        "line (job_id, kind, queue, attempt, host, pid on a worker's lines) for a log store.")
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Lowest level written (`repertory -v`: DEBUG).")

    @field_validator("format", "level", mode="before")
    @classmethod
    def _any_case(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        return value.strip().lower() if info.field_name == "format" else value.strip().upper()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore", frozen=False
    )

    var_dir: Path = Field(Path("var"), description="Where embedded servers keep their data.")
    up_pools: list[str] = Field(["cpu", "index", "gpu"],
                                description="Pools `repertory up` starts.")
    redis_url_plain: str | None = Field(
        None, validation_alias=AliasChoices("REDIS_URL"), exclude=True, repr=False
    )
    qdrant_url_plain: str | None = Field(
        None, validation_alias=AliasChoices("QDRANT_URL"), exclude=True, repr=False
    )
    redis: RedisSettings = RedisSettings()
    jobs: JobSettings = JobSettings()
    notify: NotifySettings = NotifySettings()
    api: ApiSettings = ApiSettings()
    pools: PoolSettings = PoolSettings()
    schedules: ScheduleSettings = ScheduleSettings()
    solve: SolveSettings = SolveSettings()
    scrape: ScrapeSettings = ScrapeSettings()
    clip: ClipSettings = ClipSettings()
    qdrant: QdrantSettings = QdrantSettings()
    http: HttpJobSettings = HttpJobSettings()
    logging: LoggingSettings = LoggingSettings()

    @model_validator(mode="after")
    def _under_var_dir(self) -> Settings:
        """Data paths left at their defaults follow ``var_dir``."""
        if self.clip.images.blob_dir == Path("./var/blobs"):
            self.clip.images.blob_dir = self.var_dir / "blobs"
        if self.qdrant.path == Path("./var/qdrant"):
            self.qdrant.path = self.var_dir / "qdrant"
        return self

    @model_validator(mode="after")
    def _plain_urls(self) -> Settings:
        if self.redis_url_plain and self.redis.url is None:
            self.redis.url = SecretStr(self.redis_url_plain)
        if self.qdrant_url_plain and not getattr(self.qdrant, "url", None):
            self.qdrant.url = self.qdrant_url_plain
            if getattr(self.qdrant, "mode", None) != "server":
                self.qdrant.mode = "server"
        return self


def describe_error(error: ValidationError) -> str:
    """A message naming the environment variable behind each invalid value."""
    lines = ["invalid settings:"]
    for item in error.errors():
        loc = [str(p) for p in item["loc"] if str(p)]
        name = ENV_PREFIX + "__".join(loc).upper() if loc else ENV_PREFIX + "*"
        lines.append(f"  {name}: {item['msg']} (got {item.get('input')!r})")
    return "\n".join(lines)


class SettingsError(RuntimeError):
    """Settings could not be read; the message names the variables."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(describe_error(exc)) from None


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The effective settings as JSON-able data, secrets and URL passwords masked."""
    data = settings.model_dump(mode="json")
    return _mask(data)


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, str) and "://" in value and "@" in value:
        scheme, rest = value.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0] if ":" in creds else ""
        return f"{scheme}://{user}:**********@{host}"
    return value
