"""Search: text → image and image → image. Query vectors go through the gpu pool's batcher."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from api.deps import AppSettings, Service
from api.errors import HttpProblem
from api.schemas.images import SearchResults, to_hit
from api.uploads import read_uploads

log = logging.getLogger(__name__)
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
    filters = _filters(filter, product_id)  # a bad filter is a 422 before any worker is asked
    model_id = _live_model(service)
    vector = service.call("embed_query", text=q, model_id=model_id)
    hits = service.call("search_index", vector, limit, filters, model_id=model_id)
    return SearchResults(query=q, hits=[to_hit(h) for h in hits])


@router.post("/image", response_model=SearchResults, summary="Images like an uploaded one",
             description="The query image is validated like an upload and is not kept.")
async def search_image(service: Service, settings: AppSettings,
                       file: Annotated[UploadFile, File()], limit: Limit = 10,
                       product_id: Annotated[str | None, Query(max_length=200)] = None,
                       filter: FilterParam = None) -> SearchResults:  # noqa: A002
    filters = _filters(filter, product_id)
    return await run_in_threadpool(_search_by_image, service, settings, file, limit, filters)


def _search_by_image(service: Service, settings: AppSettings, file: UploadFile, limit: int,
                     filters: dict[str, Any] | None) -> SearchResults:
    from actors.embed.blobs import BlobStore

    (upload,) = read_uploads([file], settings.clip.images, max_files=1)
    blobs = BlobStore(settings.clip.images.blob_dir)
    ref = blobs.put(upload.data)  # the gpu worker reads the query image from the blob store
    model_id = _live_model(service)
    try:
        vector = service.call("embed_query", blob_key=ref.key, model_id=model_id)
    finally:
        if ref.created:
            _forget(service, settings, ref.key)
    hits = service.call("search_index", vector, limit, filters, model_id=model_id)
    return SearchResults(hits=[to_hit(h) for h in hits])


def _live_model(service: Service) -> str | None:
    """The model of the live collection: the query is embedded by it and searched where its
    vectors are, even if a reindex switches the alias in between (``actors.index.models``)."""
    from actors.index.models import live_model

    return live_model(service.store.redis)


def _forget(service: Service, settings: AppSettings, blob_key: str) -> None:
    """Delete a query image's blob, unless an upload of the same content (the store is
    content-addressed) has meanwhile written an image record that uses it."""
    from actors.embed.blobs import BlobStore
    from actors.embed.ingest import image_id_of
    from actors.embed.records import ImageRecords

    try:
        image_id = image_id_of(settings.clip, blob_key, service.store.redis)
        if ImageRecords(service.store.redis).get(image_id) is None:
            BlobStore(settings.clip.images.blob_dir).delete(blob_key)
    except Exception:  # the answer (or its error) matters more than this cleanup
        log.warning("could not delete the query image blob %s", blob_key, exc_info=True)


def _filters(raw: str | None, product_id: str | None) -> dict[str, Any] | None:
    filters: dict[str, Any] = {}
    if raw:
        try:
            filters = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise HttpProblem(422, f"filter is not JSON: {exc.msg}") from None
        except RecursionError:
            raise HttpProblem(422, "filter is nested too deeply") from None
        if not isinstance(filters, dict):
            raise HttpProblem(422, "filter must be a JSON object")
    if product_id:
        filters["product_id"] = product_id
    return filters or None
