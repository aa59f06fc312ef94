"""Log lines: the request id follows work into Celery; no secret reaches a log."""

import json
import logging

import pytest
from celery.signals import task_success
from celery.worker.request import Request
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from kombu import Connection
from pythonjsonlogger.json import JsonFormatter
from rest_framework.test import APIClient

from accounts.models import User
from analysis.tests.factories import face_jpeg_with_gps
from skincare.celery import app as celery_app
from skincare.logging import RequestIdFilter, request_id_var

PASSWORD = "Very-secret-Passw0rd-4471"
JPEG_MAGIC = b"\xff\xd8\xff"

seen_in_task: list[str] = []


@celery_app.task(name="skincare.tests.record_request_id")
def record_request_id_task() -> str:
    logging.getLogger("skincare.tests.task").info("task ran")
    seen_in_task.append(request_id_var.get())
    return request_id_var.get()


def json_formatter() -> JsonFormatter:
    spec = settings.LOGGING["formatters"]["json"]
    return JsonFormatter(spec["fmt"], rename_fields=spec["rename_fields"])


@pytest.mark.django_db(transaction=True)
def test_request_id_follows_an_api_call_into_its_email_task(api_client, eager_celery):
    """Real commits, so on_commit enqueues inside the request as in production."""
    # given a receiver noting the request id while each task runs
    ids: dict[str, str] = {}

    def note(sender=None, **kwargs):
        ids[sender.name] = request_id_var.get()

    task_success.connect(note, weak=False)
    try:
        # when a user registers with a request id, and the e-mail task runs
        response = api_client.post(
            "/api/v1/auth/register/",
            {"email": "follow@example.com", "password": PASSWORD},
            format="json",
            HTTP_X_REQUEST_ID="req-follow-42",
        )
    finally:
        task_success.disconnect(note)

    # then the e-mail task logged under the request's id
    assert response.status_code == 201, response.content
    assert response["X-Request-ID"] == "req-follow-42"
    assert ids.get("notifications.send_delivery") == "req-follow-42", ids
    assert request_id_var.get() == "-"


def test_apply_async_carries_the_request_id_header_into_the_worker():
    # given a request in progress, publishing to a real (in-memory) broker
    seen_in_task.clear()
    token = request_id_var.set("req-publish-7")
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        with Connection("memory://") as conn:
            record_request_id_task.apply_async(connection=conn, queue="ops-test")
            message = conn.SimpleQueue("ops-test").get(timeout=2)
    finally:
        celery_app.conf.task_always_eager = previous
        request_id_var.reset(token)

    # then the message headers carry the id
    assert message.headers["request_id"] == "req-publish-7"

    # and the worker runs the task, and logs, under that id, then forgets it
    Request(message, app=celery_app, task=record_request_id_task).execute()
    message.ack()
    assert seen_in_task == ["req-publish-7"]
    assert request_id_var.get() == "-"


def test_task_without_a_request_id_logs_under_its_own_task_id():
    seen_in_task.clear()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        with Connection("memory://") as conn:
            result = record_request_id_task.apply_async(
                connection=conn, queue="ops-test"
            )
            message = conn.SimpleQueue("ops-test").get(timeout=2)
    finally:
        celery_app.conf.task_always_eager = previous

    Request(message, app=celery_app, task=record_request_id_task).execute()
    message.ack()

    assert "request_id" not in message.headers
    assert seen_in_task == [result.id]


def test_json_log_line_carries_the_exception_and_request_id():
    logger = logging.getLogger("skincare.tests.errors")
    token = request_id_var.set("req-error-1")
    try:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            record = logger.makeRecord(
                logger.name, logging.ERROR, __file__, 1, "boom", (), None
            )
            import sys

            record.exc_info = sys.exc_info()
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)

    line = json.loads(json_formatter().format(record))

    assert line["level"] == "ERROR"
    assert line["request_id"] == "req-error-1"
    assert "ZeroDivisionError" in line["exc_info"]


@pytest.mark.django_db
def test_no_password_token_secret_or_photo_byte_reaches_a_log(
    caplog, settings, tmp_path
):
    # given every logger at DEBUG and a user going through the API
    settings.MEDIA_ROOT = tmp_path
    caplog.set_level(logging.DEBUG)
    client = APIClient()
    email = "quiet@example.com"
    register = client.post(
        "/api/v1/auth/register/",
        {"email": email, "password": PASSWORD},
        format="json",
        HTTP_AUTHORIZATION="Bearer should-not-matter",
    )
    assert register.status_code == 201, register.content
    User.objects.filter(email=email).update(
        email_verified_at=timezone.now(), consent_photo_analysis_at=timezone.now()
    )
    tokens = client.post(
        "/api/v1/auth/token/", {"email": email, "password": PASSWORD}, format="json"
    ).json()
    refreshed = client.post(
        "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    ).json()
    client.post(
        "/api/v1/auth/token/", {"email": email, "password": "wrong-" + PASSWORD}
    )
    client.post("/api/v1/auth/password/reset/", {"email": email}, format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed['access']}")
    upload = client.post(
        "/api/v1/analyses/",
        {"photo": SimpleUploadedFile("f.jpg", face_jpeg_with_gps(), "image/jpeg")},
        format="multipart",
    )
    assert upload.status_code == 202, upload.content
    client.get("/api/v1/users/me/")
    # and code that carelessly logs them
    careless = logging.getLogger("skincare.tests.careless")
    careless.debug("headers %s", {"Authorization": f"Bearer {tokens['access']}"})
    careless.info("payload %s", {"email": email, "password": PASSWORD})
    careless.info("raw %s", f"Authorization: Bearer {refreshed['refresh']}")
    careless.warning("photo %r", face_jpeg_with_gps()[:64])
    careless.error(
        "signing with %s",
        settings.SECRET_KEY,
        extra={"token": tokens["refresh"], "body": {"refresh": tokens["refresh"]}},
    )

    # then no captured text, record field or JSON line holds any of them
    formatter = json_formatter()
    texts = [caplog.text]
    for record in caplog.records:
        RequestIdFilter().filter(record)
        texts.append(formatter.format(record))
        texts.append(repr(record.__dict__))
    text = "\n".join(texts)
    assert len(caplog.records) >= 10
    secrets = {
        "password": PASSWORD,
        "access": tokens["access"],
        "refresh": tokens["refresh"],
        "rotated access": refreshed["access"],
        "rotated refresh": refreshed["refresh"],
        "secret key": settings.SECRET_KEY,
        "jpeg magic": "\\xff\\xd8\\xff",
        "jpeg magic raw": JPEG_MAGIC.decode("latin-1"),
    }
    leaked = [name for name, secret in secrets.items() if secret in text]
    assert not leaked, leaked
    assert "[redacted]" in text
