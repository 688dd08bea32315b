"""Search: text → image and image → image. Query vectors go through the gpu pool's batcher."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile

from api.deps import AppSettings, Service
from api.errors import HttpProblem
from api.schemas.images import SearchResults, to_hit
from api.uploads import read_uploads

router = APIRouter(prefix="/v1/search", tags=["search"])

Limit = Annotated[int, Query(ge=1, le=100)]
FilterParam = Annotated[str | None, Query(
    description='JSON: {"field": value | [values] | {"gte": a, "lte": b}}',
    examples=['{"metadata_color": "red"}'])]


@router.get("", response_model=SearchResults, summary="Images matching a text")
def search_text(service: Service,
                q: Annotated[str, Query(min_length=1, max_length=1000,
                                        examples=["red running shoe"])],
                limit: Limit = 10,
                product_id: Annotated[str | None, Query(max_length=200)] = None,
                filter: FilterParam = None) -> SearchResults:  # noqa: A002 (query name)
    vector = service.call("embed_query", text=q)
    hits = service.call("search_index", vector, limit, _filters(filter, product_id))
    return SearchResults(query=q, hits=[to_hit(h) for h in hits])


@router.post("/image", response_model=SearchResults, summary="Images like an uploaded one")
async def search_image(service: Service, settings: AppSettings,
                       file: Annotated[UploadFile, File()], limit: Limit = 10,
                       product_id: Annotated[str | None, Query(max_length=200)] = None,
                       filter: FilterParam = None) -> SearchResults:  # noqa: A002
    from actors.embed.blobs import BlobStore

    (upload,) = await read_uploads([file], settings.clip.images, max_files=1)
    ref = BlobStore(settings.clip.images.blob_dir).put(upload.data)
    vector = service.call("embed_query", blob_key=ref.key)
    hits = service.call("search_index", vector, limit, _filters(filter, product_id))
    return SearchResults(hits=[to_hit(h) for h in hits])


def _filters(raw: str | None, product_id: str | None) -> dict[str, Any] | None:
    filters: dict[str, Any] = {}
    if raw:
        try:
            filters = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise HttpProblem(422, f"filter is not JSON: {exc.msg}") from None
        if not isinstance(filters, dict):
            raise HttpProblem(422, "filter must be a JSON object")
    if product_id:
        filters["product_id"] = product_id
    return filters or None
