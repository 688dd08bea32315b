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


def image_id_of(clip: ClipSettings, blob_key: str) -> str:
    """The id an image of this content has under the configured model (its vector's id)."""
    return point_id(blob_key, model_id_for(clip))


def store_image(clip: ClipSettings, client: redis.Redis, data: bytes, info: ImageInfo,
                doc: dict[str, Any], filename: str) -> StoredImage:
    ref = BlobStore(clip.images.blob_dir).put(data)
    image_id = image_id_of(clip, ref.key)
    full = {**doc, "blob_key": ref.key, "created_ts": time.time()}
    ImageRecords(client).put(image_id, status=QUEUED, filename=filename, format=info.format,
                             width=info.width, height=info.height, **full)
    return StoredImage(image_id, ref.key, full, duplicate=not ref.created)
