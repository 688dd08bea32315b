"""Taking in one validated image: store its blob, write its record, describe its message.

Shared by the upload route and by the scraper's ``index_images``, so an image enters the
platform the same way whatever brought it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis

from actors.embed.blobs import BlobStore
from actors.embed.images import ImageInfo
from actors.embed.model import model_id_for
from actors.embed.records import QUEUED, ImageRecords
from actors.index.collections import point_id
from config.clip import ClipSettings


@dataclass(frozen=True)
class StoredImage:
    image_id: str
    blob_key: str
    doc: dict[str, Any]
    duplicate: bool  # the same content was stored before

    def item(self) -> dict[str, Any]:
        """The entry this image takes in an ``embed_images`` message."""
        return {"image_id": self.image_id, "blob_key": self.blob_key, "doc": self.doc}


def image_id_of(clip: ClipSettings, blob_key: str, client: redis.Redis | None = None) -> str:
    """The id of the image of this content: the id it was stored under when a record exists
    (an image keeps its id when a reindex moves it to another model), else its id under the
    configured model. With ``client``, the ids under every registered model are tried."""
    configured = point_id(blob_key, model_id_for(clip))
    if client is None:
        return configured
    from actors.index.models import MODELS_KEY

    others = sorted(m.decode() for m in client.hkeys(MODELS_KEY))
    candidates = [configured, *(point_id(blob_key, m) for m in others)]
    pipe = client.pipeline(transaction=False)
    for candidate in candidates:
        pipe.exists(ImageRecords.key(candidate))
    found = [c for c, hit in zip(candidates, pipe.execute(), strict=True) if hit]
    return found[0] if found else configured


def store_image(clip: ClipSettings, client: redis.Redis, data: bytes, info: ImageInfo,
                doc: dict[str, Any], filename: str) -> StoredImage:
    ref = BlobStore(clip.images.blob_dir).put(data)
    image_id = image_id_of(clip, ref.key, client)
    full = {**doc, "blob_key": ref.key, "created_ts": time.time()}
    ImageRecords(client).put(image_id, status=QUEUED, filename=filename, format=info.format,
                             width=info.width, height=info.height, **full)
    return StoredImage(image_id, ref.key, full, duplicate=not ref.created)
