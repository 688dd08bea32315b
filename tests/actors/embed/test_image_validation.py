"""Upload validation: real format sniffing, byte and pixel limits, decompression bombs."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from PIL import Image

from actors.embed.images import (
    CorruptImage,
    ImageTooLarge,
    ImageTooManyPixels,
    UnsupportedImageFormat,
    sniff_format,
    validate_image,
)
from config.clip import ImageSettings
from pools.errors import PermanentError


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares a huge canvas, with a tiny IDAT: the classic bomb shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_magic_bytes_identify_each_accepted_format(image_factory, fmt: str) -> None:
    data = image_factory(1, fmt)
    assert sniff_format(data) == fmt.lower()
    info = validate_image(data, ImageSettings())
    assert (info.format, info.width, info.height) == (fmt.lower(), 96, 72)
    assert info.sha256 == hashlib.sha256(data).hexdigest()


def test_a_gif_is_refused_as_unsupported_media_type(image_factory) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "GIF")
    with pytest.raises(UnsupportedImageFormat, match="unknown format") as err:
        validate_image(buf.getvalue(), ImageSettings())
    assert err.value.http_status == 415


def test_a_png_named_jpeg_is_judged_by_its_bytes_not_its_name(image_factory) -> None:
    data = image_factory(2, "PNG")
    limits = ImageSettings(formats=["jpeg"])
    with pytest.raises(UnsupportedImageFormat, match="PNG is not accepted"):
        validate_image(data, limits, name="photo.jpg")


def test_a_file_over_the_byte_limit_is_refused_with_413(image_factory) -> None:
    data = image_factory(3, "PNG")
    with pytest.raises(ImageTooLarge) as err:
        validate_image(data, ImageSettings(max_bytes=len(data) - 1))
    assert err.value.http_status == 413
    assert f"{len(data):,} bytes" in str(err.value)
    assert isinstance(err.value, PermanentError)


def test_a_small_file_that_expands_past_the_pixel_limit_is_refused_with_422() -> None:
    buf = io.BytesIO()
    Image.new("L", (4000, 4000), 0).save(buf, "PNG", optimize=True)
    data = buf.getvalue()
    assert len(data) < 100_000  # 16 Mpx from a few KB: a real decompression bomb
    with pytest.raises(ImageTooManyPixels, match="decompression bomb") as err:
        validate_image(data, ImageSettings(max_pixels=10_000_000))
    assert err.value.http_status == 422


def test_a_header_declaring_billions_of_pixels_is_refused_without_decoding() -> None:
    data = _png_header_only(60_000, 60_000)
    with pytest.raises(ImageTooManyPixels) as err:
        validate_image(data, ImageSettings(max_side=100_000, max_pixels=10**12))
    assert err.value.http_status == 422


def test_a_side_longer_than_the_limit_is_refused(image_factory) -> None:
    with pytest.raises(ImageTooManyPixels, match="largest side"):
        validate_image(image_factory(4, "PNG", (300, 20)), ImageSettings(max_side=256))


def test_jpeg_magic_followed_by_garbage_is_reported_corrupt() -> None:
    with pytest.raises(CorruptImage, match="not a readable JPEG") as err:
        validate_image(b"\xff\xd8\xff" + b"\x00garbage" * 20, ImageSettings())
    assert err.value.http_status == 422
