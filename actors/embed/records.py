"""Image records: what the API knows about an uploaded image, one Redis hash each.

The image id is the vector's point id (uuid5 of content hash + model), so the same content
uploaded twice is one image, one blob and one point.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from config.queues import PREFIX

QUEUED, EMBEDDED, INDEXED, FAILED = "queued", "embedded", "indexed", "failed"
LAST_INDEXED = f"{PREFIX}:images:last_indexed"
COUNTS = f"{PREFIX}:images:counts"


#: KEYS: the record, ``LAST_INDEXED``. ARGV[1]: a status the record keeps if it has it (""
#: for none); ARGV[2]: the time to write to ``LAST_INDEXED`` ("" for none); then field, value
#: pairs (the first is the status).
_SET_STATUS_LUA = """
if redis.call('exists', KEYS[1]) == 0 then return 0 end
local first = 3
if ARGV[1] ~= '' and redis.call('hget', KEYS[1], 'status') == ARGV[1] then first = 5 end
if first <= #ARGV then redis.call('hset', KEYS[1], unpack(ARGV, first)) end
if ARGV[2] ~= '' then redis.call('set', KEYS[2], ARGV[2]) end
return 1
"""


def _key(image_id: str) -> str:
    return f"{PREFIX}:image:{image_id}"


class ImageRecords:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._set_status = client.register_script(_SET_STATUS_LUA)  # EVALSHA, not the text

    @staticmethod
    def key(image_id: str) -> str:
        return _key(image_id)

    def put(self, image_id: str, **fields: Any) -> None:
        fields.setdefault("created_at", time.time())
        mapping = {k: json.dumps(v) for k, v in fields.items()}
        self.redis.hset(_key(image_id), mapping=mapping)

    def get(self, image_id: str) -> dict[str, Any] | None:
        raw = self.redis.hgetall(_key(image_id))
        if not raw:
            return None
        return {"image_id": image_id, **{k.decode(): json.loads(v) for k, v in raw.items()}}

    def set_status(self, image_id: str, status: str, **fields: Any) -> None:
        """Set ``status`` and ``fields`` in one step, unless the record is gone (deleted
        meanwhile: never resurrect it). ``embedded`` never replaces ``indexed``: the index
        worker may mark an image indexed before the embedding job, which handed it the
        vector, gets to mark it embedded (the other fields are still written)."""
        kept = json.dumps(INDEXED) if status == EMBEDDED else ""
        indexed_at = repr(time.time()) if status == INDEXED else ""
        args = [kept, indexed_at, *(part for name, value in {"status": status, **fields}.items()
                                    for part in (name, json.dumps(value)))]
        self._set_status(keys=[_key(image_id), LAST_INDEXED], args=args)

    def link_job(self, image_ids: list[str], job_id: str) -> None:
        pipe = self.redis.pipeline(transaction=False)  # one round trip for the whole upload
        for image_id in image_ids:
            pipe.hset(_key(image_id), "job_id", json.dumps(job_id))
        pipe.execute()

    def delete(self, image_id: str) -> bool:
        return bool(self.redis.delete(_key(image_id)))

    def last_indexed(self) -> float | None:
        value = self.redis.get(LAST_INDEXED)
        return float(value) if value else None
