"""Image upload and search schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.jobs import Status


class UploadedImage(BaseModel):
    image_id: str = Field(examples=["5b0f8f6e-0c8e-5c52-9d53-0f6a1c2d3e4f"])
    filename: str = Field(examples=["shoe.jpg"])
    blob_key: str
    format: str = Field(examples=["jpeg"])
    width: int
    height: int
    duplicate: bool = Field(description="The same content was stored before.")


class ImagesAccepted(BaseModel):
    job_id: str
    status: Status
    created: bool = True
    images: list[UploadedImage]
    links: dict[str, str]


class Image(BaseModel):
    image_id: str
    status: str = Field(examples=["indexed"], description="queued, embedded or indexed")
    blob_key: str
    product_id: str | None = None
    name: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    filename: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    job_id: str | None = None
    model_id: str | None = None
    created_at: float | None = None


class SearchHit(BaseModel):
    image_id: str
    score: float = Field(examples=[0.31])
    product_id: str | None = None
    name: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    blob_key: str | None = None


class SearchResults(BaseModel):
    query: str | None = Field(None, examples=["red running shoe"])
    hits: list[SearchHit]


class ImageStats(BaseModel):
    index: dict[str, Any] | None = Field(None, description="Counts per collection, alias.")
    index_error: str | None = None
    queues: list[dict[str, Any]]
    last_indexed: float | None = None
    blobs: int = Field(examples=[1520])


def to_hit(raw: dict[str, Any]) -> SearchHit:
    payload = raw.get("payload") or {}
    return SearchHit(image_id=raw["id"], score=raw["score"],
                     product_id=payload.get("product_id"), name=payload.get("name"),
                     description=payload.get("description"),
                     metadata=payload.get("metadata") or {}, blob_key=payload.get("blob_key"))
