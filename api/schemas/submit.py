"""Options shared by every submission route."""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, Field


class SubmitOptions(BaseModel):
    callback_url: AnyHttpUrl | None = Field(
        None, description="POSTed the job summary when the job finishes.",
        examples=["https://example.com/hooks/repertory"])
    delay_ms: int | None = Field(None, ge=0, le=7 * 86_400_000,
                                 description="Run no earlier than this many ms from now.")


class DiagRequest(SubmitOptions):
    mode: Literal["ok", "sleep", "fail", "flaky", "bad"] = Field("ok", examples=["sleep"])
    seconds: float = Field(0.0, ge=0, le=3600, examples=[2.5])
    failures: int = Field(0, ge=0, le=100, description="For `flaky`: attempts that fail.")
