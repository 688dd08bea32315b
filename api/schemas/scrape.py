"""Scrape request schema."""

from __future__ import annotations

from pydantic import Field

from api.schemas.submit import SubmitOptions


class ScrapeRequest(SubmitOptions):
    domains: list[str] = Field(min_length=1, description="Domains or URLs (the host is taken).",
                               examples=[["acme.com", "https://www.example.org/about"]])
    max_pages_per_domain: int = Field(5, ge=1, le=20)
    refresh: bool = Field(False, description="Fetch again even if a recent record exists.")
    index_images: bool = Field(False, description="Send found product/logo images to the GPU "
                                                  "pool for indexing.")
