"""Unusual but real images are accepted and stored as plain 8-bit sRGB JPEGs."""

import io

import numpy as np
import pillow_heif
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from skimage import data

from analysis.models import Analysis
from analysis.tests.factories import stored_files

pytestmark = pytest.mark.django_db

URL = "/api/v1/analyses/"


def face(size: int = 768) -> Image.Image:
    return Image.fromarray(data.astronaut()).resize((size, size))


def cmyk_jpeg() -> bytes:
    buffer = io.BytesIO()
    face().convert("CMYK").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def png_16_bit() -> bytes:
    grey = np.asarray(face().convert("L"), dtype=np.uint16) * 257
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, "PNG")
    return buffer.getvalue()


def heic() -> bytes:
    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    face().save(buffer, "HEIF", quality=80)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("make", "name", "mode"),
    [
        pytest.param(cmyk_jpeg, "face.jpg", "CMYK", id="cmyk-jpeg"),
        pytest.param(png_16_bit, "face.png", "I;16", id="16-bit-png"),
        pytest.param(heic, "face.heic", None, id="heic"),
    ],
)
def test_unusual_image_is_accepted_and_stored_as_rgb_jpeg(
    consenting_user, client_for, media_root, make, name, mode
):
    content = make()
    if mode is not None:
        assert Image.open(io.BytesIO(content)).mode == mode

    response = client_for(consenting_user).post(
        URL,
        {"photo": SimpleUploadedFile(name, content, "application/octet-stream")},
        format="multipart",
    )

    assert response.status_code == 202, response.json()
    [stored] = stored_files(media_root)
    with Image.open(stored) as image:
        assert (image.format, image.mode) == ("JPEG", "RGB")
        assert not image.getexif()
    assert Analysis.objects.get().has_photo
