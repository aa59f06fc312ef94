"""Safe decoding of uploaded photos: format sniffing, size limits, orientation, RGB.

Every size check happens on the header, before any pixel is decoded
(``inspect_image`` stops there: the web request uses it). Decoding keeps memory
bounded for 48-megapixel photos: JPEGs are decoded at a reduced DCT scale (Pillow
draft mode), other formats are shrunk by an integer factor right after decoding
(``Image.reduce``), and everything after that works on 8-bit pixels at the target
size; no float copy of a full-size image is ever made.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .errors import ImageRejected

pillow_heif.register_heif_opener()

# A 48 MP phone JPEG or HEIC is 5-25 MB; a 16-bit PNG of one, 50-60 MB.
MAX_BYTES = 64 * 1024 * 1024
MAX_PIXELS = 50_000_000
MIN_SIDE = 256
ANALYSIS_MAX_SIDE = 1024

_PIL_FORMATS = {
    "jpeg": ("JPEG",),
    "png": ("PNG",),
    "webp": ("WEBP",),
    "heif": ("HEIF",),
}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_OTHER_IMAGE_MAGIC = (
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"8BPS",
    b"\x00\x00\x01\x00",
    b"\x00\x00\x00\x0cjP  ",
    b"\xff\x0a",
    b"qoif",
)
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, UnidentifiedImageError)
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class DecodedImage:
    """An RGB 8-bit photo at analysis scale, plus facts about the original."""

    rgb: np.ndarray
    format: str
    original_width: int
    original_height: int


def sniff_format(data: bytes) -> str:
    """Name the format from magic bytes: jpeg, png, webp or heif; else reject."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        if data[8:12] in _HEIF_BRANDS:
            return "heif"
        raise ImageRejected(
            "unsupported_format", "Use a JPEG, PNG, WebP or HEIC photo."
        )
    if any(data.startswith(magic) for magic in _OTHER_IMAGE_MAGIC):
        raise ImageRejected(
            "unsupported_format", "Use a JPEG, PNG, WebP or HEIC photo."
        )
    raise ImageRejected("not_an_image", "The file is not an image.")


@dataclass(frozen=True)
class ImageHeader:
    """What the header of an accepted photo says; no pixel was decoded."""

    format: str
    width: int
    height: int


def _stream(source: bytes | BinaryIO) -> tuple[BinaryIO, int, bytes]:
    """A seekable stream at 0, its size in bytes and its first bytes (magic)."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    head = stream.read(32)
    stream.seek(0)
    return stream, size, head


def _open(
    source: bytes | BinaryIO, *, max_bytes: int = MAX_BYTES
) -> tuple[Image.Image, str]:
    """Open lazily (header only) and enforce byte and pixel limits before decoding."""
    stream, size, head = _stream(source)
    if size > max_bytes:
        raise ImageRejected("file_too_large", f"The file exceeds {max_bytes} bytes.")
    kind = sniff_format(head)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream, formats=_PIL_FORMATS[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(
            "image_too_large", "The image has too many pixels."
        ) from exc
    except _DECODE_ERRORS as exc:
        raise ImageRejected("corrupt_image", "The image header is damaged.") from exc
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageRejected(
            "image_too_large", f"The image has more than {MAX_PIXELS} pixels."
        )
    if min(width, height) < MIN_SIDE:
        raise ImageRejected(
            "image_too_small", f"The image's shorter side is under {MIN_SIDE} pixels."
        )
    return image, kind


def inspect_image(
    source: bytes | BinaryIO, *, max_bytes: int = MAX_BYTES
) -> ImageHeader:
    """Check format, byte size and dimensions from the header; decode nothing.

    A body damaged after the header passes; decoding it later raises corrupt_image.
    """
    image, kind = _open(source, max_bytes=max_bytes)
    return ImageHeader(format=kind, width=image.width, height=image.height)


def _load(image: Image.Image) -> Image.Image:
    """Decode pixels, mapping decoder failures to corrupt_image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(
            "image_too_large", "The image has too many pixels."
        ) from exc
    except _DECODE_ERRORS as exc:
        raise ImageRejected("corrupt_image", "The image data is damaged.") from exc
    return image


def _orient(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block leaves the image as stored."""
    try:
        return ImageOps.exif_transpose(image)
    except (*_DECODE_ERRORS, KeyError, TypeError):
        return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert an embedded ICC profile to sRGB; unreadable profiles are ignored."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "CMYK"):
        return image
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(profile).lower():
            return image
        converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted if converted is not None else image


_SIXTEEN_BIT = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def _grey16_to_rgb8(image: Image.Image, max_side: int | None) -> Image.Image:
    """16-bit (or 32-bit) grey to 8-bit RGB, shrunk first so no big copy is made."""
    values = np.asarray(image)
    if values.dtype not in (np.uint16, np.float32):  # mode I: rare, small in practice
        values = values.astype(np.float32)
    if max_side is not None and max(values.shape) > max_side:
        values = _resize_longest(values, max_side)  # area averaging keeps uint16
    top = 65535 if values.max() > 255 else 255
    grey = np.clip(values.astype(np.float32) * (255.0 / top) + 0.5, 0, 255)
    return Image.fromarray(grey.astype(np.uint8)).convert("RGB")


def _to_rgb8(image: Image.Image, *, max_side: int | None = None) -> Image.Image:
    """Return an 8-bit RGB image from any mode (CMYK, 16-bit, palette, alpha).

    16-bit grey is shrunk to max_side (when given) before it is converted.
    """
    if image.mode in _SIXTEEN_BIT:
        return _grey16_to_rgb8(image, max_side)
    image = _to_srgb(image)
    if image.mode in ("P", "PA", "LA", "RGBA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode != "RGB":
        return image.convert("RGB")
    return image


def _reduce_towards(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink by the largest integer factor that keeps the longest side >= max_side.

    Box averaging at native mode right after decoding, so conversions and the
    final resize work on a small image. Modes Pillow cannot reduce pass unchanged.
    """
    factor = max(image.size) // max_side
    if factor < 2 or image.mode not in ("L", "LA", "RGB", "RGBA", "CMYK", "I", "F"):
        return image
    return image.reduce(factor)


def _resize_longest(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink so the longest side is max_side, with area averaging."""
    height, width = rgb.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def decode_for_analysis(
    data: bytes, *, max_side: int = ANALYSIS_MAX_SIDE
) -> DecodedImage:
    """Decode to an upright RGB array whose longest side is about max_side."""
    image, kind = _open(data)
    width, height = image.size
    if kind == "jpeg":
        shrink = 0.75 * max_side / max(width, height)
        if shrink < 1.0:
            wanted = (math.ceil(width * shrink), math.ceil(height * shrink))
            image.draft("RGB" if image.mode in ("RGB", "YCbCr") else None, wanted)
    image = _to_rgb8(_orient(_load(image)))
    rgb = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    if max(rgb.shape[:2]) > 1.1 * max_side:
        rgb = _resize_longest(rgb, max_side)
    if (rgb.shape[1] > rgb.shape[0]) != (width > height):
        width, height = height, width
    return DecodedImage(
        rgb=rgb,
        format=kind,
        original_width=width,
        original_height=height,
    )


def check_image(data: bytes) -> None:
    """Raise ImageRejected unless the bytes fully decode as an accepted photo."""
    decode_for_analysis(data, max_side=512)


def reencode_without_metadata(
    source: bytes | BinaryIO,
    *,
    max_side: int | None = None,
    quality: int = 90,
    max_bytes: int = MAX_BYTES,
) -> bytes:
    """Return an upright sRGB JPEG with no EXIF, XMP, ICC or comments, for storage.

    With max_side, memory stays bounded for any accepted photo: the full-size
    pixels exist once, at their decoded depth, and are shrunk before any copy.
    """
    image, kind = _open(source, max_bytes=max_bytes)
    if max_side is not None and kind == "jpeg":
        shrink = max_side / max(image.size)
        if shrink < 1.0:
            image.draft(
                None,
                (math.ceil(image.width * shrink), math.ceil(image.height * shrink)),
            )
    image = _load(image)
    if max_side is not None:
        # reduce() keeps info (EXIF orientation, ICC profile) for the steps below.
        image = _reduce_towards(image, max_side)
    image = _to_rgb8(_orient(image), max_side=max_side)
    rgb = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    del image
    if max_side is not None:
        rgb = _resize_longest(rgb, max_side)
    clean = Image.fromarray(rgb)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()
