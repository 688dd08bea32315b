"""Settings of HTTP jobs (queue ``http``): limits, retries and which targets may be called."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class HttpJobSettings(BaseModel):
    """How HTTP jobs call their URLs. Mounted at ``settings.http``."""

    max_timeout_s: float = Field(
        90.0, gt=0, le=600, description="Largest timeout_s a job may ask for (whole call: "
        "connect, send, answer and the first bytes of the body).")
    max_retries: int = Field(10, ge=0, le=100, description="Largest max_retries a job may ask "
                             "for (retries follow transport errors, 5xx and 429).")
    min_backoff_ms: int = Field(1_000, ge=1, description="First retry delay without a "
                                "Retry-After; doubles per retry (with jitter).")
    max_backoff_ms: int = Field(300_000, ge=1, description="Longest retry delay without a "
                                "Retry-After.")
    max_retry_after_s: float = Field(
        3_600.0, ge=0, description="A Retry-After longer than this is shortened to it.")
    max_request_bytes: int = Field(1_000_000, ge=0, description="Largest request body a job "
                                   "may send.")
    response_bytes: int = Field(65_536, ge=0, description="Bytes of the response body kept "
                                "in the job's result (the rest is not read).")
    max_in_flight: int = Field(
        1_000, ge=1, description="HTTP jobs one worker process holds at once (calls in "
        "flight on its event loop); worker threads are not held while a call waits.")
    allowed_networks: list[str] = Field(
        default_factory=list,
        description="CIDRs HTTP jobs may call although they are internal (private, loopback, "
        "link-local…), e.g. [\"10.20.0.0/16\"]. Empty (default): only globally routable "
        "addresses. Every address a name resolves to is checked, and the connection is "
        "pinned to the checked address.")
    user_agent: str = Field("repertory-http/1", description="User-Agent unless a job sets one.")
    attempts_kept: int = Field(20, ge=1, le=1000, description="Attempts kept per job.")

    @field_validator("allowed_networks")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        from pools.net.netguard import allowed_networks

        allowed_networks(value)  # raises ValueError naming the bad entry
        return value
