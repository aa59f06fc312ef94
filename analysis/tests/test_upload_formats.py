"""Unusual but real images are accepted and stored as plain 8-bit sRGB JPEGs."""

import io

import numpy as np
import pillow_heif
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from skimage import data

from analysis.models import Analysis
from analysis.tests.factories import (
    LARGE_SIZE,
    large_photo,
    large_photo_rgb,
    stored_files,
)

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
    consenting_user,
    client_for,
    media_root,
    eager_celery,
    django_capture_on_commit_callbacks,
    make,
    name,
    mode,
):
    content = make()
    if mode is not None:
        assert Image.open(io.BytesIO(content)).mode == mode

    with django_capture_on_commit_callbacks(execute=True):
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


@pytest.fixture(scope="session")
def large_rgb():
    return large_photo_rgb()


@pytest.mark.parametrize("kind", ["jpeg", "png16", "heic"])
def test_48_megapixel_photo_is_accepted_and_analysed_end_to_end(
    consenting_user,
    client_for,
    media_root,
    eager_celery,
    django_capture_on_commit_callbacks,
    settings,
    large_rgb,
    kind,
):
    # given an 8064x6048 photo of each kind a phone or an editor produces
    content = large_photo(kind, rgb=large_rgb)
    header = Image.open(io.BytesIO(content))
    assert header.size == LARGE_SIZE
    assert len(content) <= settings.ANALYSIS_PHOTO_MAX_BYTES

    # when it is uploaded and the worker runs
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(consenting_user).post(
            URL,
            {"photo": SimpleUploadedFile("photo", content, "application/octet-stream")},
            format="multipart",
        )

    # then it is analysed from a stored photo no larger than the stored size
    assert response.status_code == 202, response.json()
    analysis = Analysis.objects.get()
    assert analysis.status == Analysis.Status.COMPLETED, analysis.failure_detail
    assert analysis.scores
    [stored] = stored_files(media_root)
    with Image.open(stored) as image:
        assert max(image.size) == settings.ANALYSIS_STORED_PHOTO_MAX_SIDE
        assert image.size[0] > image.size[1]
