"""Image validation before anything is queued: format sniffing, size and pixel limits.

Reads only the header (PIL's lazy ``Image.open``), never decodes pixels. Every refusal is a
``PermanentError`` subclass carrying the HTTP status the API answers with.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from config.clip import ImageSettings
from pools.errors import PermanentError

_PIL_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp"}


class ImageRejected(PermanentError):
    """An upload refused by validation; ``http_status`` is what the API returns."""

    http_status = 400
    kind = "image_rejected"


class ImageTooLarge(ImageRejected):
    http_status = 413
    kind = "image_too_large"


class UnsupportedImageFormat(ImageRejected):
    http_status = 415
    kind = "unsupported_image_format"


class ImageTooManyPixels(ImageRejected):
    """Too many pixels, too wide/tall, or a decompression bomb."""

    http_status = 422
    kind = "image_too_many_pixels"


class CorruptImage(ImageRejected):
    http_status = 422
    kind = "corrupt_image"


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    nbytes: int
    sha256: str


def sniff_format(data: bytes) -> str | None:
    """The format from magic bytes: ``jpeg``, ``png``, ``webp`` or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def check_size(nbytes: int, limits: ImageSettings) -> None:
    """Refuse by byte count alone (usable on Content-Length before reading the body)."""
    if nbytes > limits.max_bytes:
        raise ImageTooLarge(
            f"image is {nbytes:,} bytes; the limit is {limits.max_bytes:,} bytes"
        )


def validate_image(data: bytes, limits: ImageSettings, *, name: str = "image") -> ImageInfo:
    """Check one upload; return its format, dimensions and sha256, or raise ImageRejected."""
    check_size(len(data), limits)
    fmt = sniff_format(data)
    if fmt is None or fmt not in limits.formats:
        allowed = ", ".join(f.upper() for f in limits.formats)
        what = "an unknown format" if fmt is None else fmt.upper()
        raise UnsupportedImageFormat(f"{name}: {what} is not accepted; send {allowed}")
    width, height = _dimensions(data, fmt, name)
    check_pixels(width, height, limits, nbytes=len(data), name=name)
    return ImageInfo(fmt, width, height, len(data), hashlib.sha256(data).hexdigest())


def check_pixels(
    width: int, height: int, limits: ImageSettings, *, nbytes: int = 0, name: str = "image"
) -> None:
    """Refuse images whose declared size is beyond the limits (the decompression-bomb guard)."""
    pixels = width * height
    if max(width, height) > limits.max_side:
        raise ImageTooManyPixels(
            f"{name}: {width}x{height} exceeds the largest side of {limits.max_side} pixels"
        )
    if pixels > limits.max_pixels:
        bomb = f" from a {nbytes:,}-byte file (decompression bomb?)" if nbytes else ""
        raise ImageTooManyPixels(
            f"{name}: {width}x{height} = {pixels:,} pixels{bomb}; "
            f"the limit is {limits.max_pixels:,} pixels"
        )


def _dimensions(data: bytes, fmt: str, name: str) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt.upper()]) as im:
                return im.size
    except Image.DecompressionBombError as exc:
        raise ImageTooManyPixels(f"{name}: decompression bomb refused ({exc})") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CorruptImage(f"{name}: not a readable {fmt.upper()} file ({exc})") from exc
