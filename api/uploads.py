"""Reading image uploads safely: size caps before reading, zip archives expanded entry by entry
within a budget of inflated bytes, every image validated (format sniffed, pixels bounded) as
soon as it is read, before anything is stored or queued.

``read_uploads`` blocks (file reads, inflating, header parsing): call it in a worker thread.
Zip archives are read from the upload's own spooled file, never copied into memory whole.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, Any

from fastapi import UploadFile

from api.errors import HttpProblem
from config.clip import ImageSettings
from pools.errors import PermanentError

ZIP_MAGIC = b"PK\x03\x04"
INFLATED_ENV = "REPERTORY_CLIP__IMAGES__MAX_INFLATED_BYTES"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    info: Any  # actors.embed.images.ImageInfo


def read_uploads(files: list[UploadFile], limits: ImageSettings,
                 max_files: int) -> list[Upload]:
    reader = _Reader(limits, max_files)
    for file in files:
        reader.add(file.filename or "upload", file.file, file.size)
    if not reader.uploads:
        raise HttpProblem(422, "no image files in the request")
    return reader.uploads


class _Reader:
    """The images of one request, and what is left of its budgets."""

    def __init__(self, limits: ImageSettings, max_files: int) -> None:
        self.limits, self.max_files = limits, max_files
        self.inflatable = limits.max_inflated_bytes
        self.uploads: list[Upload] = []

    def add(self, name: str, fh: IO[bytes], size: int | None) -> None:
        from actors.embed.images import check_size

        if size is not None:  # an archive is bounded like an image
            _checked(name, lambda: check_size(size, self.limits))
        fh.seek(0)
        is_zip = fh.read(4) == ZIP_MAGIC
        fh.seek(0)
        if is_zip:
            self._unzip(name, fh)
        else:
            self._image(name, fh.read(self.limits.max_bytes + 1))

    def _image(self, name: str, data: bytes) -> None:
        if len(self.uploads) >= self.max_files:
            raise HttpProblem(413, f"more than {self.max_files} images in one request "
                                   f"(max_files_per_request)")
        self.uploads.append(Upload(name, data, _validate(name, data, self.limits)))

    def _unzip(self, name: str, fh: IO[bytes]) -> None:
        try:
            archive = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            raise HttpProblem(422, f"{name}: not a readable zip archive") from None
        entries = [i for i in archive.infolist()
                   if not i.is_dir() and not i.filename.startswith(("__MACOSX/", "."))]
        room = self.max_files - len(self.uploads)
        if len(entries) > room:
            raise HttpProblem(413, f"{name}: {len(entries)} files; at most {room} more fit in "
                                   f"this request")
        declared = sum(i.file_size for i in entries)  # checked before inflating anything
        if declared > self.inflatable:
            raise HttpProblem(413, f"{name}: its files inflate to {declared:,} bytes; "
                                   f"{self._inflated_limit()}", file=name,
                              limit="clip.images.max_inflated_bytes")
        for info in entries:
            label = f"{name}:{info.filename}"
            self._image(label, self._inflate(archive, info, label))

    def _inflate(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bytes:
        """One entry's bytes, counted as they inflate: declared sizes can lie."""
        max_bytes = self.limits.max_bytes
        if info.file_size > max_bytes:  # declared size: checked before inflating
            raise HttpProblem(413, f"{label}: {info.file_size:,} bytes; the limit is "
                                   f"{max_bytes:,}", file=label)
        cap = min(max_bytes, self.inflatable)
        chunks, total = [], 0
        try:
            with archive.open(info) as entry:
                while chunk := entry.read(min(_CHUNK, cap + 1 - total)):
                    chunks.append(chunk)
                    total += len(chunk)
                    if total > cap:
                        raise self._too_much(label, cap == max_bytes)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
                RuntimeError) as exc:
            raise HttpProblem(422, f"{label}: unreadable zip entry ({exc})", file=label) from None
        self.inflatable -= total
        return b"".join(chunks)

    def _too_much(self, label: str, per_image: bool) -> HttpProblem:
        if per_image:
            return HttpProblem(413, f"{label}: larger than {self.limits.max_bytes:,} bytes",
                               file=label)
        return HttpProblem(413, f"{label}: the archive inflates past its budget; "
                                f"{self._inflated_limit()}", file=label,
                           limit="clip.images.max_inflated_bytes")

    def _inflated_limit(self) -> str:
        return (f"one request may inflate at most {self.limits.max_inflated_bytes:,} bytes "
                f"(clip.images.max_inflated_bytes, set {INFLATED_ENV} to change it)")


def _validate(name: str, data: bytes, limits: ImageSettings) -> Any:
    from actors.embed.images import validate_image

    return _checked(name, lambda: validate_image(data, limits, name=name))


def _checked(name: str, check: Any) -> Any:
    try:
        return check()
    except PermanentError as exc:
        message = exc.message if exc.message.startswith(name) else f"{name}: {exc.message}"
        raise HttpProblem(exc.http_status, message, file=name, type=exc.kind) from None


def parse_metadata(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise HttpProblem(422, f"metadata is not JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise HttpProblem(422, "metadata is nested too deeply") from None
    if not isinstance(value, dict):
        raise HttpProblem(422, "metadata must be a JSON object")
    return value
