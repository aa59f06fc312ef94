"""Decoding: formats, limits, orientation, metadata stripping."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from analysis.engine import (
    ImageRejected,
    check_image,
    inspect_image,
    reencode_without_metadata,
)
from analysis.engine.decode import ANALYSIS_MAX_SIDE, decode_for_analysis

from .conftest import jpeg_bytes, png_bytes


def halves(width: int = 400, height: int = 300) -> np.ndarray:
    """Left half red, right half blue."""
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    rgb[:, : width // 2] = (220, 30, 30)
    rgb[:, width // 2 :] = (30, 30, 220)
    return rgb


def rejected_code(data: bytes) -> str:
    with pytest.raises(ImageRejected) as info:
        decode_for_analysis(data)
    return info.value.code


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways; viewers rotate 90 degrees clockwise
    data = jpeg_bytes(halves(), exif=exif.tobytes())

    rgb = decode_for_analysis(data).rgb

    assert rgb.shape[:2] == (400, 300)
    assert rgb[20, 150, 0] > 150  # red half is now on top
    assert rgb[380, 150, 2] > 150


def test_reencode_drops_gps_and_all_exif_and_keeps_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (52.0, 13.0, 7.5)
    original = jpeg_bytes(halves(), exif=exif.tobytes())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)

    clean = reencode_without_metadata(original)

    image = Image.open(io.BytesIO(clean))
    assert image.format == "JPEG"
    assert not image.getexif()
    assert b"Exif\x00\x00" not in clean
    assert b"PhoneMaker" not in clean
    assert "icc_profile" not in image.info
    assert image.size == (300, 400)


def test_reencode_can_cap_the_longest_side():
    clean = reencode_without_metadata(jpeg_bytes(halves(2000, 1000)), max_side=800)
    assert Image.open(io.BytesIO(clean)).size == (800, 400)


def png_with_header_size(width: int, height: int) -> bytes:
    """A tiny valid-looking PNG whose header claims width x height pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_from_the_header():
    bomb = png_with_header_size(30_000, 30_000)
    start = time.perf_counter()
    assert rejected_code(bomb) == "image_too_large"
    assert time.perf_counter() - start < 0.5


def test_truncated_jpeg_is_corrupt():
    data = jpeg_bytes(halves(800, 600))
    assert rejected_code(data[: len(data) // 2]) == "corrupt_image"


@pytest.mark.parametrize(
    "blob", [b"", b"hello, world" * 50, b"%PDF-1.7\n" + b"0" * 500, b"\xff\xd8"]
)
def test_non_image_bytes_are_refused(blob: bytes):
    assert rejected_code(blob) == "not_an_image"


def test_gif_is_an_unsupported_format():
    out = io.BytesIO()
    Image.fromarray(halves()).save(out, format="GIF")
    assert rejected_code(out.getvalue()) == "unsupported_format"


def test_one_pixel_image_is_too_small():
    assert rejected_code(png_bytes(np.zeros((1, 1, 3), np.uint8))) == "image_too_small"


def test_cmyk_jpeg_is_converted_to_rgb():
    out = io.BytesIO()
    Image.fromarray(halves()).convert("CMYK").save(out, format="JPEG", quality=95)

    rgb = decode_for_analysis(out.getvalue()).rgb

    assert rgb.dtype == np.uint8
    assert rgb.shape == (300, 400, 3)
    assert rgb[150, 50, 0] > 150
    assert rgb[150, 350, 2] > 150


def test_sixteen_bit_png_is_scaled_to_eight_bit():
    ramp = np.tile(np.linspace(0, 65535, 400).astype(np.uint16), (300, 1))
    out = io.BytesIO()
    Image.fromarray(ramp).save(out, format="PNG")
    assert Image.open(io.BytesIO(out.getvalue())).mode.startswith("I")

    rgb = decode_for_analysis(out.getvalue()).rgb

    assert rgb.dtype == np.uint8
    assert rgb.shape == (300, 400, 3)
    assert rgb[0, 0, 0] < 3
    assert rgb[0, -1, 0] > 252


def test_palette_png_with_alpha_is_flattened_on_white():
    rgba = np.zeros((300, 400, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[:, 200:, 3] = 255
    out = io.BytesIO()
    Image.fromarray(rgba).convert("P").save(out, format="PNG")
    rgba_out = io.BytesIO()
    Image.fromarray(rgba).save(rgba_out, format="PNG")

    for data in (out.getvalue(), rgba_out.getvalue()):
        rgb = decode_for_analysis(data).rgb
        assert rgb.shape == (300, 400, 3)
    assert tuple(rgb[10, 10]) == (255, 255, 255)


def test_webp_is_accepted():
    out = io.BytesIO()
    Image.fromarray(halves()).save(out, format="WEBP", quality=90)
    assert decode_for_analysis(out.getvalue()).format == "webp"


@pytest.mark.skipif(not pillow_heif.libheif_info()["HEIF"], reason="no HEIF encoder")
def test_heic_round_trip():
    out = io.BytesIO()
    Image.fromarray(halves()).save(out, format="HEIF", quality=90)

    decoded = decode_for_analysis(out.getvalue())

    assert decoded.format == "heif"
    assert decoded.rgb.shape == (300, 400, 3)
    assert decoded.rgb[150, 50, 0] > 150
    clean = reencode_without_metadata(out.getvalue())
    assert Image.open(io.BytesIO(clean)).format == "JPEG"


def test_large_jpeg_is_decoded_near_analysis_size():
    big = np.zeros((3000, 4000, 3), dtype=np.uint8)
    big[..., 1] = 120

    decoded = decode_for_analysis(jpeg_bytes(big))

    longest = max(decoded.rgb.shape[:2])
    assert 0.75 * ANALYSIS_MAX_SIDE <= longest <= 1.1 * ANALYSIS_MAX_SIDE
    assert (decoded.original_width, decoded.original_height) == (4000, 3000)


def test_check_image_accepts_a_whole_photo_and_refuses_it_cut_in_half(face_rgb):
    data = jpeg_bytes(face_rgb)

    assert check_image(data) is None
    with pytest.raises(ImageRejected) as info:
        check_image(data[: len(data) // 2])
    assert info.value.code == "corrupt_image"


def test_inspect_image_reads_the_header_and_leaves_a_damaged_body_to_the_decoder():
    data = jpeg_bytes(halves(1200, 900))
    truncated = data[: len(data) // 2]

    header = inspect_image(io.BytesIO(truncated))

    assert (header.format, header.width, header.height) == ("jpeg", 1200, 900)
    with pytest.raises(ImageRejected) as info:
        reencode_without_metadata(io.BytesIO(truncated), max_side=800)
    assert info.value.code == "corrupt_image"


def test_inspect_image_refuses_what_the_header_tells():
    assert _inspect_code(b"just text" * 10) == "not_an_image"
    assert _inspect_code(png_with_header_size(40_000, 40_000)) == "image_too_large"
    assert _inspect_code(png_bytes(halves(300, 200))) == "image_too_small"
    assert _inspect_code(png_bytes(halves()), max_bytes=100) == "file_too_large"


def _inspect_code(data: bytes, **options) -> str:
    with pytest.raises(ImageRejected) as info:
        inspect_image(io.BytesIO(data), **options)
    return info.value.code


def test_reencode_of_a_16_bit_grey_png_is_shrunk_before_it_is_converted():
    ramp = np.tile(np.linspace(0, 65535, 3000, dtype=np.uint16), (2000, 1))
    out = io.BytesIO()
    Image.fromarray(ramp).save(out, format="PNG")

    clean = reencode_without_metadata(out.getvalue(), max_side=800)

    image = Image.open(io.BytesIO(clean))
    assert (image.size, image.mode) == ((800, 533), "RGB")
    grey = np.asarray(image)[..., 0]
    assert grey[:, :10].mean() < 10
    assert grey[:, -10:].mean() > 245


def test_reencode_keeps_exif_orientation_through_the_early_reduce():
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.fromarray(halves(2400, 1200)).save(out, format="PNG", exif=exif.tobytes())

    clean = reencode_without_metadata(out.getvalue(), max_side=600)

    image = Image.open(io.BytesIO(clean))
    assert image.size == (300, 600)
    rgb = np.asarray(image)
    assert rgb[20, 150, 0] > 150  # red half is now on top
    assert rgb[580, 150, 2] > 150
