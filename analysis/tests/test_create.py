import io
import json

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from analysis.models import Analysis
from analysis.tests.factories import (
    coffee_jpeg,
    face_jpeg_with_gps,
    png,
    png_bomb,
    stored_files,
)
from notifications.models import Notification
from skincare.storage import is_local

pytestmark = pytest.mark.django_db

URL = "/api/v1/analyses/"


def upload(content: bytes, name: str = "face.jpg", content_type: str = "image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def consenting_client(consenting_user, client_for):
    return client_for(consenting_user)


def test_real_face_is_accepted_then_completes_with_scores(
    consenting_client, media_root, eager_celery, django_capture_on_commit_callbacks
):
    # given a consenting user and a real face photo
    # when they upload it and the worker runs
    with django_capture_on_commit_callbacks(execute=True):
        response = consenting_client.post(
            URL, {"photo": upload(face_jpeg_with_gps())}, format="multipart"
        )

    # then the request was accepted at once and the analysis has scores
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "pending"
    analysis = Analysis.objects.get(pk=response.json()["id"])
    assert analysis.status == Analysis.Status.COMPLETED, analysis.failure_detail
    assert set(analysis.scores) >= {"redness", "shine", "texture"}
    assert analysis.attempts == 1
    assert Notification.objects.filter(
        idempotency_key=f"analysis:{analysis.pk}:completed", kind="analysis_ready"
    ).exists()


def test_stored_photo_has_no_exif_at_all(
    consenting_client, media_root, eager_celery, django_capture_on_commit_callbacks
):
    original = Image.open(io.BytesIO(face_jpeg_with_gps()))
    assert original.getexif().get_ifd(0x8825), "the fixture must carry GPS"

    with django_capture_on_commit_callbacks(execute=True):
        response = consenting_client.post(
            URL, {"photo": upload(face_jpeg_with_gps())}, format="multipart"
        )

    assert response.status_code == 202
    # the raw upload is gone: the re-encoded photo is the only file left
    [stored] = stored_files(media_root)
    assert stored.parent.name == "photos"
    image = Image.open(stored)
    assert image.format == "JPEG"
    assert not image.getexif()
    assert "exif" not in image.info
    assert b"Exif" not in stored.read_bytes()[:4096]


def test_new_analysis_stays_pending_until_a_worker_runs(consenting_client, media_root):
    response = consenting_client.post(
        URL, {"photo": upload(face_jpeg_with_gps())}, format="multipart"
    )

    analysis = Analysis.objects.get(pk=response.json()["id"])
    assert analysis.status == Analysis.Status.PENDING
    assert analysis.enqueued_at is not None
    assert analysis.raw_upload.name.startswith("uploads/")
    assert not analysis.photo


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(face_jpeg_with_gps, id="small-jpeg"),
        # over FILE_UPLOAD_MAX_MEMORY_SIZE: Django spools it to a temporary file
        pytest.param(lambda: png(1600, 1200) + b"\x00" * 3_000_000, id="spooled-png"),
    ],
)
def test_request_stores_the_upload_as_received_and_decodes_nothing(
    consenting_client, media_root, content
):
    """The request keeps the raw bytes; no re-encoded JPEG exists before the task."""
    data = content()

    response = consenting_client.post(URL, {"photo": upload(data)}, format="multipart")

    assert response.status_code == 202, response.json()
    [stored] = stored_files(media_root)
    assert stored.parent.name == "uploads"
    assert stored.read_bytes() == data
    if is_local(default_storage):  # a bucket's objects are private by having no ACL
        assert stored.stat().st_mode & 0o777 == 0o600
    assert not Analysis.objects.get().photo


def test_raw_upload_is_deleted_once_the_worker_stored_the_photo(
    consenting_client, media_root, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = consenting_client.post(
            URL, {"photo": upload(face_jpeg_with_gps())}, format="multipart"
        )

    analysis = Analysis.objects.get(pk=response.json()["id"])
    assert analysis.status == Analysis.Status.COMPLETED
    assert not analysis.raw_upload
    assert [path.parent.name for path in stored_files(media_root)] == ["photos"]
    with Image.open(stored_files(media_root)[0]) as image:
        assert max(image.size) <= 2048


def test_truncated_jpeg_passes_the_header_check_then_fails_as_corrupt_in_the_worker(
    consenting_client, media_root, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = consenting_client.post(
            URL, {"photo": upload(_truncated_jpeg())}, format="multipart"
        )

    assert response.status_code == 202, response.json()
    analysis = Analysis.objects.get(pk=response.json()["id"])
    assert (analysis.status, analysis.failure_code) == ("failed", "corrupt_image")
    assert analysis.failure_advice
    assert not analysis.raw_upload
    assert not analysis.photo
    assert analysis.photo_deleted_at is not None
    assert stored_files(media_root) == []
    assert Notification.objects.filter(
        idempotency_key=f"analysis:{analysis.pk}:failed"
    ).exists()


def test_photo_without_a_face_fails_with_no_face(
    consenting_client, media_root, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = consenting_client.post(
            URL, {"photo": upload(coffee_jpeg())}, format="multipart"
        )

    body = consenting_client.get(f"{URL}{response.json()['id']}/").json()
    assert body["status"] == "failed"
    assert body["failure_code"] == "no_face"
    assert "face" in body["failure_advice"]
    assert body["scores"] == {}
    assert Notification.objects.filter(kind="analysis_failed").count() == 1


def _truncated_jpeg() -> bytes:
    data = face_jpeg_with_gps()
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        pytest.param(b"just some text, " * 200, "face.jpg", "not_an_image", id="text"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="900">'
            b'<rect width="900" height="900"/></svg>',
            "face.svg",
            "not_an_image",
            id="svg",
        ),
        pytest.param(
            lambda: face_jpeg_with_gps()[:200], "face.jpg", "corrupt_image", id="header"
        ),
        pytest.param(png_bomb, "face.png", "image_too_large", id="bomb"),
        pytest.param(lambda: png(1, 1), "face.png", "image_too_small", id="1x1"),
        pytest.param(
            b"GIF89a" + b"\x00" * 200, "face.gif", "unsupported_format", id="gif"
        ),
    ],
)
def test_hostile_upload_is_refused_and_nothing_is_stored(
    consenting_client, media_root, content, name, code
):
    content = content() if callable(content) else content

    response = consenting_client.post(
        URL, {"photo": upload(content, name)}, format="multipart"
    )

    assert response.status_code == 400, response.json()
    [error] = response.json()["errors"]
    assert (error["code"], error["attr"]) == (code, "photo")
    assert stored_files(media_root) == []
    assert not Analysis.objects.exists()


def test_photo_over_the_byte_limit_answers_413(consenting_client, media_root, settings):
    settings.ANALYSIS_PHOTO_MAX_BYTES = 20_000

    response = consenting_client.post(
        URL, {"photo": upload(face_jpeg_with_gps())}, format="multipart"
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "file_too_large"
    assert stored_files(media_root) == []
    assert not Analysis.objects.exists()


def test_photo_over_the_limit_is_stopped_while_reading(
    consenting_client, media_root, settings
):
    """Without a trustworthy Content-Length, the upload handler stops the read."""
    photo = face_jpeg_with_gps()
    # within the envelope allowance, so only the per-file check can catch it
    settings.ANALYSIS_PHOTO_MAX_BYTES = len(photo) - 1_000

    response = consenting_client.post(URL, {"photo": upload(photo)}, format="multipart")

    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "file_too_large"
    assert stored_files(media_root) == []


def test_photo_needs_consent_to_photo_analysis(auth_client, media_root):
    response = auth_client.post(
        URL, {"photo": upload(face_jpeg_with_gps())}, format="multipart"
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "photo_consent_required"
    assert stored_files(media_root) == []
    assert not Analysis.objects.exists()


def test_questionnaire_alone_as_json_completes_with_a_skin_type(
    auth_client, eager_celery, django_capture_on_commit_callbacks
):
    answers = {"after_wash": "shiny_everywhere", "blotting": "several_times"}

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(URL, {"questionnaire": answers}, format="json")

    assert response.status_code == 202
    body = auth_client.get(f"{URL}{response.json()['id']}/").json()
    assert body["status"] == "completed"
    assert body["skin_type"] == "oily"
    assert body["profile"]["skin_type_source"] == "questionnaire"
    assert body["has_photo"] is False


def test_questionnaire_is_read_from_a_json_string_in_multipart(auth_client):
    response = auth_client.post(
        URL,
        {"questionnaire": json.dumps({"after_wash": "tight_flaky"})},
        format="multipart",
    )

    assert response.status_code == 202
    assert Analysis.objects.get().answers == {"after_wash": "tight_flaky"}


def test_invalid_answer_names_the_question(auth_client):
    response = auth_client.post(
        URL, {"questionnaire": {"after_wash": "sometimes"}}, format="json"
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["attr"]) == ("invalid_choice", "questionnaire")
    assert error["detail"].startswith("after_wash:")


def test_request_without_photo_or_answers_is_refused(auth_client):
    response = auth_client.post(URL, {}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "photo_or_questionnaire_required"


def test_questionnaire_lists_questions_and_allowed_answers_without_weights(
    auth_client,
):
    response = auth_client.get("/api/v1/analysis/questionnaire/")

    assert response.status_code == 200
    questions = {q["id"]: q for q in response.json()["questions"]}
    assert {"value": "never", "text": "Never"} in questions["blotting"]["answers"]
    assert questions["concerns"]["kind"] == "multiple"
