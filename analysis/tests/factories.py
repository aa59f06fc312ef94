"""Factories and image builders for the analysis tests."""

import io
import struct
import zlib
from functools import cache
from pathlib import Path

import factory
import numpy as np
from django.utils import timezone
from PIL import ExifTags, Image

from accounts.tests.factories import UserFactory
from analysis.models import Analysis, DailyAnalysisCount

# Lighting stats as the engine reports them in photo_result["image"].
DAYLIGHT = {
    "face_lightness": 60.0,
    "skin_hue_deg": 50.0,
    "white_balance_a": 1.0,
    "white_balance_b": 3.0,
}
LAMP_LIGHT = {**DAYLIGHT, "face_lightness": 35.0, "white_balance_b": 14.0}


def concern(score: int, *, severe: bool | None = None) -> dict:
    """A served per-concern entry with a given score."""
    band = "low" if score < 25 else "moderate" if score < 50 else "high"
    if score >= 75:
        band = "severe"
    return {
        "score": score,
        "band": band,
        "severe": score >= 75 if severe is None else severe,
        "confidence": 0.9,
        "explanation": "Measured.",
        "regions": {"forehead": {"value": 1.0, "score": score}},
    }


class AnalysisFactory(factory.django.DjangoModelFactory):
    """A pending questionnaire-only analysis."""

    class Meta:
        model = Analysis

    user = factory.SubFactory(UserFactory)
    answers = factory.LazyFunction(lambda: {"after_wash": "shiny_everywhere"})


class DailyAnalysisCountFactory(factory.django.DjangoModelFactory):
    """Today's (UTC) count of started analyses."""

    class Meta:
        model = DailyAnalysisCount

    user = factory.SubFactory(UserFactory)
    day = factory.LazyFunction(lambda: timezone.now().date())
    count = 1


class CompletedAnalysisFactory(AnalysisFactory):
    """A completed photo analysis; pass `scores={"redness": 40}` and `image=`."""

    class Meta:
        model = Analysis

    class Params:
        score_values = factory.LazyFunction(lambda: {"redness": 30, "shine": 20})
        image = factory.LazyFunction(lambda: dict(DAYLIGHT))

    status = Analysis.Status.COMPLETED
    answers = None
    photo = factory.Sequence(lambda n: f"photos/factory{n}.jpg")
    skin_type = "oily"
    engine_version = "1.0.0"
    completed_at = factory.LazyFunction(timezone.now)
    scores = factory.LazyAttribute(
        lambda o: {name: concern(value) for name, value in o.score_values.items()}
    )
    photo_result = factory.LazyAttribute(
        lambda o: {
            "status": "ok",
            "image": o.image,
            "quality": [
                {
                    "code": "blurred",
                    "passed": True,
                    "value": 0.2,
                    "limit": 0.05,
                    "advice": "Hold still.",
                }
            ],
            "concerns": {},
        }
    )


def jpeg(image: Image.Image, **save) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92, **save)
    return out.getvalue()


@cache
def face_jpeg_with_gps() -> bytes:
    """skimage's astronaut (head and shoulders) at 1024 px with GPS in its EXIF."""
    from skimage import data

    head = data.astronaut()[7:263, 97:353]
    image = Image.fromarray(head).resize((1024, 1024), Image.BICUBIC)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 22.0, 7.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (4.0, 53.0, 2.0),
    }
    return jpeg(image, exif=exif)


@cache
def coffee_jpeg() -> bytes:
    """skimage's coffee cup: a fine photo with no face in it."""
    from skimage import data

    return jpeg(Image.fromarray(data.coffee()))


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 150, 120)).save(out, format="PNG")
    return out.getvalue()


def png_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """A small PNG whose header claims a huge image."""
    data = bytearray(png(256, 256))
    # IHDR: 8-byte signature, 4-byte length, b"IHDR", then width and height.
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF
    data[29:33] = struct.pack(">I", crc)
    return bytes(data)


def stored_files(root) -> list:
    """Every file of the media storage, as local paths.

    A local folder's own files; a bucket's objects copied under root's parent
    (`s3-copy/`, keeping their names), so a test reads either the same way.
    """
    from django.core.files.storage import default_storage

    from skincare.storage import is_local, walk

    names = list(walk(default_storage))
    if is_local(default_storage):
        return [Path(default_storage.path(name)) for name in names]
    copies = []
    for name in names:
        copy = Path(root).parent / "s3-copy" / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(name, "rb") as handle:
            copy.write_bytes(handle.read())
        copies.append(copy)
    return copies


LARGE_SIZE = (8064, 6048)  # 48 MP, what current phone main cameras take


def large_photo_rgb(size: tuple[int, int] = LARGE_SIZE) -> np.ndarray:
    """A photo-like 8-bit RGB frame: lit gradient, the astronaut's face, mild noise.

    The face fills the frame's height, so the engine finds it at analysis scale.
    """
    import cv2
    from skimage import data

    width, height = size
    ramp = np.array(
        [[[150, 120, 100], [200, 170, 140]], [[90, 80, 70], [140, 120, 100]]],
        dtype=np.uint8,
    )
    rgb = cv2.resize(ramp, (width, height), interpolation=cv2.INTER_LINEAR)
    head = np.ascontiguousarray(data.astronaut()[7:263, 97:353])
    side = height
    left = (width - side) // 2
    rgb[:, left : left + side] = cv2.resize(
        head, (side, side), interpolation=cv2.INTER_CUBIC
    )
    noise = np.random.default_rng(12).integers(
        0, 5, size=(height, width), dtype=np.uint8
    )
    return cv2.add(cv2.subtract(rgb, 2), cv2.merge([noise] * 3))


def large_photo(kind: str, *, rgb: np.ndarray | None = None) -> bytes:
    """A 48 MP photo as a phone JPEG (q92), an 8-bit-content 16-bit PNG, or a HEIC.

    The 16-bit PNG widens 8-bit values (x257), as editors do when they export a
    phone photo at 16 bits: about 55 MB. One with real 16-bit noise in every pixel
    would be 150-290 MB, over ANALYSIS_PHOTO_MAX_BYTES (413).
    """
    import cv2
    import pillow_heif

    rgb = large_photo_rgb() if rgb is None else rgb
    if kind == "jpeg":
        return jpeg(Image.fromarray(rgb))
    if kind == "png16":
        wide = rgb[..., ::-1].astype(np.uint16) * 257
        ok, encoded = cv2.imencode(".png", wide, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        assert ok
        return encoded.tobytes()
    if kind == "heic":
        pillow_heif.register_heif_opener()
        out = io.BytesIO()
        Image.fromarray(rgb).save(
            out, format="HEIF", quality=60, enc_params={"preset": "ultrafast"}
        )
        return out.getvalue()
    raise ValueError(kind)


def waiting_analysis(*, data: bytes | None = None, **fields) -> Analysis:
    """A photo analysis whose upload still waits for the worker (raw file stored)."""
    from django.core.files.base import ContentFile

    raw_field = Analysis._meta.get_field("raw_upload")
    name = raw_field.storage.save(
        raw_field.generate_filename(None, "upload"),
        ContentFile(face_jpeg_with_gps() if data is None else data),
    )
    fields.setdefault("user", UserFactory())
    return AnalysisFactory(answers=None, raw_upload=name, **fields)


def face_photo_form() -> dict:
    """The multipart body of an upload: a real face with GPS metadata as `photo`."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"photo": SimpleUploadedFile("face.jpg", face_jpeg_with_gps(), "image/jpeg")}
