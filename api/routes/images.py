"""Images: upload (one, many, or a zip), read, delete, stats, similar."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from actors.embed.records import ImageRecords
from api.deps import AppSettings, IdempotencyKey, ImageId, Service
from api.errors import HttpProblem
from api.schemas.images import (
    Image,
    ImagesAccepted,
    ImageStats,
    SearchResults,
    UploadedImage,
    to_hit,
)
from api.uploads import Upload, parse_metadata, read_uploads
from pools.service import Submission

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/images", tags=["images"])

MAX_FILES = 10_000


@router.post("", status_code=202, response_model=ImagesAccepted,
             summary="Upload images to embed and index",
             description="Multipart: one or many `files` (JPEG, PNG, WebP, or zip archives of "
             "them) with `product_id`, `name`, `description` and a JSON `metadata` object. "
             "Images are grouped into jobs of `images_per_job` (one job, or a batch of jobs); "
             "an image that cannot be embedded fails alone (its status says `failed`). "
             "Every file is validated before anything is queued: too big 413, unknown format "
             "415, too many pixels (decompression bomb) or unreadable 422.",
             responses={413: {"description": "File too large"},
                        415: {"description": "Not JPEG, PNG or WebP"},
                        422: {"description": "Bomb, corrupt, or bad metadata"}})
async def upload_images(
    service: Service, settings: AppSettings, key: IdempotencyKey,
    files: Annotated[list[UploadFile], File(description="Images or zip archives")],
    product_id: Annotated[str | None, Form(max_length=200, examples=["sku-123"])] = None,
    name: Annotated[str | None, Form(max_length=500)] = None,
    description: Annotated[str | None, Form(max_length=5000)] = None,
    metadata: Annotated[str | None, Form(examples=['{"color": "red"}'])] = None,
) -> ImagesAccepted:
    meta = parse_metadata(metadata)
    uploads = await run_in_threadpool(read_uploads, files, settings.clip.images, MAX_FILES)
    doc = {"product_id": product_id, "name": name, "description": description, "metadata": meta}
    return await run_in_threadpool(_accept, service, settings, uploads, doc, key)


def _accept(service: Service, settings: AppSettings, uploads: list[Upload],
            doc: dict[str, Any], key: str | None) -> ImagesAccepted:
    """Store the blobs and records, then queue them; a refused submission takes back what
    this request wrote (blobs and records that did not exist before it)."""
    undo = _Undo(service, settings, uploads)
    try:
        stored = [_store(service, settings, u, doc) for u in uploads]
        sub = _submit(service, settings, stored, key)
    except BaseException:
        undo()
        raise
    ImageRecords(service.store.redis).link_job([s.image_id for s, _ in stored], sub.job["id"])
    job_id = sub.job["id"]
    return ImagesAccepted(job_id=job_id, status=sub.job["status"], created=sub.created,
                          images=[out for _, out in stored],
                          links={"self": f"/v1/jobs/{job_id}"})


def _submit(service: Service, settings: AppSettings, stored: list[tuple[Any, UploadedImage]],
            key: str | None) -> Submission:
    size = settings.clip.images.images_per_job
    chunks = [stored[i:i + size] for i in range(0, len(stored), size)]
    items = [(([s.item() for s, _ in chunk],), {}) for chunk in chunks]
    if len(items) == 1:
        return service.submit("embed_images", kind="images", args=items[0][0],
                              idempotency_key=key,
                              summary={"images": [s.image_id for s, _ in stored]})
    return service.submit_batch(
        "embed_images", kind="images-batch", child_kind="images", items=items,
        idempotency_key=key, summary={"images": len(stored), "jobs": len(items)},
        child_summaries=[{"images": [s.image_id for s, _ in chunk],
                          "filenames": [out.filename for _, out in chunk]}
                         for chunk in chunks])


def _store(service: Service, settings: AppSettings, upload: Upload,
           doc: dict[str, Any]) -> tuple[Any, UploadedImage]:
    from actors.embed.ingest import store_image

    named = {**doc, "name": doc["name"] or upload.filename}
    stored = store_image(settings.clip, service.store.redis, upload.data, upload.info, named,
                         upload.filename)
    info = upload.info
    out = UploadedImage(image_id=stored.image_id, filename=upload.filename,
                        blob_key=stored.blob_key, format=info.format, width=info.width,
                        height=info.height, duplicate=stored.duplicate)
    return stored, out


class _Undo:
    """What an upload is about to write that does not exist yet, to remove it again; records
    that existed are put back as they were."""

    def __init__(self, service: Service, settings: AppSettings, uploads: list[Upload]) -> None:
        from actors.embed.blobs import BlobStore
        from actors.embed.ingest import image_id_of

        self.blobs = BlobStore(settings.clip.images.blob_dir)
        self.records = ImageRecords(service.store.redis)
        keys = {u.info.sha256 for u in uploads}
        self.new_blobs = [k for k in keys if not self.blobs.exists(k)]
        self.before = {i: self.records.get(i)
                       for i in (image_id_of(settings.clip, k, service.store.redis)
                                 for k in keys)}

    def __call__(self) -> None:
        for blob_key in self.new_blobs:
            self.blobs.delete(blob_key)
        try:
            for image_id, record in self.before.items():
                self.records.delete(image_id)
                if record is not None:
                    self.records.put(image_id, **{k: v for k, v in record.items()
                                                  if k != "image_id"})
        except Exception:  # Redis may be what failed; the blobs are gone already
            log.warning("could not take back the image records of a refused upload",
                        exc_info=True)


@router.get("/stats", response_model=ImageStats, summary="Counts, queue depth, last indexed")
def image_stats(service: Service, settings: AppSettings) -> ImageStats:
    from actors.embed.blobs import BlobStore

    index, error = None, None
    try:
        index = service.call("index_stats", timeout_s=5)
    except Exception as exc:  # the stats page must render even when the index pool is down
        error = str(exc)
    return ImageStats(index=index, index_error=error,
                      queues=[service.admin.stats(q) for q in ("gpu", "index")],
                      last_indexed=ImageRecords(service.store.redis).last_indexed(),
                      blobs=BlobStore(settings.clip.images.blob_dir).count())


@router.get("/{image_id}", response_model=Image, summary="An image's record and status")
def get_image(image_id: ImageId, service: Service) -> Image:
    return Image(**_record(service, image_id))


@router.delete("/{image_id}", status_code=204, summary="Delete an image, its vector and blob")
def delete_image(image_id: ImageId, service: Service, settings: AppSettings) -> Response:
    from actors.embed.blobs import BlobStore

    record = _record(service, image_id)
    service.call("delete_points", [image_id])  # the vector first: 503 if down
    ImageRecords(service.store.redis).delete(image_id)
    BlobStore(settings.clip.images.blob_dir).delete(record["blob_key"])
    return Response(status_code=204)


@router.get("/{image_id}/similar", response_model=SearchResults, summary="Images like this one")
def similar(image_id: ImageId, service: Service,
            limit: Annotated[int, Query(ge=1, le=100)] = 10) -> SearchResults:
    _record(service, image_id)
    hits = service.call("similar_images", image_id, limit)
    return SearchResults(hits=[to_hit(h) for h in hits])


def _record(service: Service, image_id: str) -> dict[str, Any]:
    record = ImageRecords(service.store.redis).get(image_id)
    if record is None:
        raise HttpProblem(404, f"no image with id {image_id!r}")
    return record
