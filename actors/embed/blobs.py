"""Content-addressed blob store: files named by their sha256 under one directory.

Messages carry keys (64 hex characters), never bytes. The same content is stored once. Writes
are atomic (temporary file, then rename), so concurrent writers of one key are harmless.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pools.errors import PermanentError

_KEY = re.compile(r"^[0-9a-f]{64}$")


class BlobNotFound(PermanentError):
    kind = "blob_not_found"


class InvalidBlobKey(PermanentError):
    kind = "invalid_blob_key"


@dataclass(frozen=True)
class BlobRef:
    key: str
    size: int
    created: bool  # False when the content was already stored


class BlobStore:
    """Blobs under ``root/ab/cd/<sha256>``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise InvalidBlobKey(f"not a blob key: {key[:80]!r}")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> BlobRef:
        key = hashlib.sha256(data).hexdigest()
        target = self.path(key)
        if target.exists():
            return BlobRef(key, len(data), created=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return BlobRef(key, len(data), created=True)

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError as exc:
            raise BlobNotFound(f"no blob {key}") from exc

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> bool:
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def count(self) -> int:
        return sum(1 for p in self.root.glob("??/??/*") if _KEY.match(p.name))
