"""Reading image uploads safely: size caps before reading, zip archives expanded with limits,
every image validated (format sniffed, pixels bounded) before anything is stored or queued."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from fastapi import UploadFile

from api.errors import HttpProblem
from config.clip import ImageSettings
from pools.errors import PermanentError

ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    info: Any  # actors.embed.images.ImageInfo


async def read_uploads(files: list[UploadFile], limits: ImageSettings,
                       max_files: int) -> list[Upload]:
    from actors.embed.images import check_size

    raw: list[tuple[str, bytes]] = []
    for file in files:
        name = file.filename or "upload"
        if file.size is not None:
            _checked(name, lambda s=file.size: check_size(s, limits), zipped=True)
        data = await file.read()
        if data[:4] == ZIP_MAGIC:
            raw += _unzip(name, data, limits, max_files - len(raw))
        else:
            raw.append((name, data))
        if len(raw) > max_files:
            raise HttpProblem(413, f"more than {max_files} images in one request "
                                   f"(max_files_per_request)")
    if not raw:
        raise HttpProblem(422, "no image files in the request")
    return [Upload(name, data, _validate(name, data, limits)) for name, data in raw]


def _validate(name: str, data: bytes, limits: ImageSettings) -> Any:
    from actors.embed.images import validate_image

    return _checked(name, lambda: validate_image(data, limits, name=name))


def _checked(name: str, check: Any, zipped: bool = False) -> Any:
    try:
        return check()
    except PermanentError as exc:
        message = exc.message if exc.message.startswith(name) else f"{name}: {exc.message}"
        raise HttpProblem(exc.http_status, message, file=name, type=exc.kind) from None


def _unzip(name: str, data: bytes, limits: ImageSettings, room: int) -> list[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise HttpProblem(422, f"{name}: not a readable zip archive") from None
    entries = [i for i in archive.infolist()
               if not i.is_dir() and not i.filename.startswith(("__MACOSX/", "."))]
    if len(entries) > room:
        raise HttpProblem(413, f"{name}: {len(entries)} files; at most {room} more fit in "
                               f"this request")
    out = []
    for info in entries:
        label = f"{name}:{info.filename}"
        if info.file_size > limits.max_bytes:  # declared size: checked before inflating
            raise HttpProblem(413, f"{label}: {info.file_size} bytes; the limit is "
                                   f"{limits.max_bytes}", file=label)
        with archive.open(info) as fh:
            content = fh.read(limits.max_bytes + 1)
        if len(content) > limits.max_bytes:
            raise HttpProblem(413, f"{label}: larger than {limits.max_bytes} bytes", file=label)
        out.append((label, content))
    return out


def parse_metadata(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise HttpProblem(422, f"metadata is not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(value, dict):
        raise HttpProblem(422, "metadata must be a JSON object")
    return value
