"""Idempotency-Key on the API's creates: replay, reuse, scope, failures, expiry."""

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.lifecycle import erase_user
from accounts.models import User
from accounts.tests.factories import UserFactory
from analysis.models import Analysis
from analysis.tests.factories import coffee_jpeg
from consultations.models import Consultation
from consultations.tests.factories import DermatologistFactory, next_weekday, paris
from idempotency.models import IdempotencyKey
from routines import services as routine_services
from routines.models import CheckIn, Routine
from routines.tests.factories import RoutineFactory, RoutineStepFactory

pytestmark = pytest.mark.django_db

ROUTINES = "/api/v1/routines/"
ROUTINE = {
    "period": "am",
    "name": "Morning",
    "steps": [{"name": "Rinse", "step_kind": "cleanse"}],
}


def keyed(client, url, data, key, **extra):
    return client.post(url, data, HTTP_IDEMPOTENCY_KEY=key, **extra)


def codes(response) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def test_retry_with_same_key_and_body_replays_the_first_answer(auth_client, user):
    """The retry gets the same status and bytes, marked, and creates nothing."""
    key = str(uuid.uuid4())
    first = keyed(auth_client, ROUTINES, ROUTINE, key)
    again = keyed(auth_client, ROUTINES, ROUTINE, key)

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Routine.objects.filter(user=user).count() == 1


def test_json_with_other_key_order_is_the_same_request(auth_client, user):
    key = "order-1"
    first = auth_client.post(
        ROUTINES,
        '{"period":"am","name":"A"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    again = auth_client.post(
        ROUTINES,
        '{ "name": "A", "period": "am" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert first.status_code == 201, first.json()
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Routine.objects.filter(user=user).count() == 1


def test_same_key_with_another_body_is_422_and_writes_nothing(auth_client, user):
    keyed(auth_client, ROUTINES, ROUTINE, "k1")

    response = keyed(auth_client, ROUTINES, {**ROUTINE, "name": "Other"}, "k1")

    assert response.status_code == 422
    assert codes(response) == ["idempotency_key_reused"]
    assert list(Routine.objects.filter(user=user).values_list("name", flat=True)) == [
        "Morning"
    ]


def test_same_key_on_another_path_is_422(auth_client, user):
    routine = RoutineFactory(user=user)
    keyed(auth_client, ROUTINES, ROUTINE, "k1")

    response = keyed(auth_client, f"{ROUTINES}{routine.pk}/check-ins/", {}, "k1")

    assert response.status_code == 422
    assert not CheckIn.objects.exists()


def test_keys_are_per_user(auth_client, other_client, user, other_user):
    a = keyed(auth_client, ROUTINES, ROUTINE, "shared")
    b = keyed(other_client, ROUTINES, ROUTINE, "shared")

    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b
    assert a.json()["id"] != b.json()["id"]
    assert Routine.objects.filter(user=other_user).count() == 1


def test_without_a_key_every_post_creates(auth_client, user):
    auth_client.post(ROUTINES, ROUTINE)
    auth_client.post(ROUTINES, ROUTINE)
    assert Routine.objects.filter(user=user).count() == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["", "has space", "é", "x" * 256])
def test_a_malformed_key_is_400_and_writes_nothing(auth_client, key):
    response = keyed(auth_client, ROUTINES, ROUTINE, key)

    assert response.status_code == 400
    assert codes(response) == ["idempotency_key_invalid"]
    assert not Routine.objects.exists()


def test_a_refused_request_is_not_stored_so_the_fixed_retry_works(auth_client, user):
    """4xx answers did no work: they are not replayed, the key stays usable."""
    bad = keyed(auth_client, ROUTINES, {"period": "noon"}, "k2")
    good = keyed(auth_client, ROUTINES, ROUTINE, "k2")

    assert bad.status_code == 400
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good
    assert Routine.objects.filter(user=user).count() == 1


def test_a_failed_request_stores_nothing_and_the_retry_does_the_work(
    auth_client, user, monkeypatch
):
    """A 5xx (the work raising) rolls back the key with the work."""
    real = routine_services.create_routine
    calls = []

    def fails_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            real(**kwargs)  # the work is done, then something breaks
            raise RuntimeError("disk on fire")
        return real(**kwargs)

    monkeypatch.setattr(routine_services, "create_routine", fails_once)
    auth_client.raise_request_exception = False

    failed = keyed(auth_client, ROUTINES, ROUTINE, "k3")
    retried = keyed(auth_client, ROUTINES, ROUTINE, "k3")

    assert failed.status_code == 500
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert Routine.objects.filter(user=user).count() == 1


def test_check_in_is_replayed(auth_client, user):
    routine = RoutineFactory(user=user)
    step = RoutineStepFactory(routine=routine)
    url = f"{ROUTINES}{routine.pk}/check-ins/"

    first = keyed(auth_client, url, {"steps": [str(step.pk)]}, "c1")
    again = keyed(auth_client, url, {"steps": [str(step.pk)]}, "c1")

    assert first.status_code == 201, first.json()
    assert (again.status_code, again.content) == (201, first.content)
    assert CheckIn.objects.filter(step=step).count() == 1


def test_generate_is_replayed(auth_client, user):
    user.declared_skin_type = "oily"
    user.save(update_fields=["declared_skin_type"])

    first = keyed(auth_client, f"{ROUTINES}generate/", {}, "g1")
    ids = set(Routine.objects.values_list("pk", flat=True))
    again = keyed(auth_client, f"{ROUTINES}generate/", {}, "g1")

    assert first.status_code == 201, first.json()
    assert again.content == first.content
    assert set(Routine.objects.values_list("pk", flat=True)) == ids


def test_booking_is_replayed(client_for):
    dermatologist = DermatologistFactory()
    patient = UserFactory()
    client = client_for(patient)
    body = {
        "dermatologist": str(dermatologist.pk),
        "start": paris(next_weekday(0), 9).isoformat(),
        "type": "video",
        "reason": "Acne",
    }

    first = keyed(client, "/api/v1/consultations/", body, "b1")
    again = keyed(client, "/api/v1/consultations/", body, "b1")

    assert first.status_code == 201, first.json()
    assert (again.status_code, again.content) == (201, first.content)
    assert Consultation.objects.filter(patient=patient).count() == 1


def test_photo_upload_is_replayed_by_its_bytes(client_for, user, media_root):
    user.consent_photo_analysis_at = timezone.now()
    user.save(update_fields=["consent_photo_analysis_at"])
    client = client_for(user)
    photo = coffee_jpeg()

    def send(content: bytes):
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("face.jpg", content, content_type="image/jpeg")
        return client.post(
            "/api/v1/analyses/",
            {"photo": upload},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="a1",
        )

    first = send(photo)
    again = send(photo)
    other = send(photo + b"\0")  # one byte more: another photo

    assert first.status_code == 202, first.json()
    assert (again.status_code, again.content) == (202, first.content)
    assert again["Location"] == first["Location"]
    assert other.status_code == 422
    assert Analysis.objects.filter(user=user).count() == 1


def test_registration_is_replayed_per_address(api_client, fast_password_hashing):
    body = {"email": "New@Example.com", "password": "a-Decent-passphrase-42"}

    first = keyed(api_client, "/api/v1/auth/register/", body, "r1")
    again = keyed(api_client, "/api/v1/auth/register/", body, "r1")
    other = keyed(
        api_client,
        "/api/v1/auth/register/",
        {**body, "email": "someone@example.com"},
        "r1",
    )

    assert first.status_code == 201, first.json()
    assert (again.status_code, again.content) == (201, first.content)
    assert other.status_code == 201  # another address: another scope
    assert User.objects.count() == 2


def test_an_expired_key_is_used_afresh(auth_client, user):
    keyed(auth_client, ROUTINES, ROUTINE, "old")
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = keyed(auth_client, ROUTINES, {**ROUTINE, "name": "New"}, "old")

    assert response.status_code == 201
    assert Routine.objects.filter(user=user).count() == 2


def test_purge_command_deletes_only_expired_keys(auth_client, capsys):
    keyed(auth_client, ROUTINES, ROUTINE, "stays")
    keyed(auth_client, ROUTINES, {**ROUTINE, "name": "B"}, "goes")
    IdempotencyKey.objects.filter(key="goes").update(
        expires_at=timezone.now() - timedelta(hours=1)
    )

    call_command("purge_idempotency_keys", "--dry-run")
    assert "would delete 1 expired keys" in capsys.readouterr().out
    assert IdempotencyKey.objects.count() == 2

    call_command("purge_idempotency_keys")
    assert "deleted 1 expired keys" in capsys.readouterr().out
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["stays"]

    call_command("purge_idempotency_keys")
    assert "deleted 0 expired keys" in capsys.readouterr().out


def test_browsers_may_send_the_key_and_read_the_replay_header(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]

    preflight = api_client.options(
        ROUTINES,
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, idempotency-key",
    )
    answer = api_client.get("/api/v1/products/", HTTP_ORIGIN="https://app.example.com")

    assert "idempotency-key" in preflight["Access-Control-Allow-Headers"]
    exposed = answer["Access-Control-Expose-Headers"]
    assert "Idempotent-Replayed" in exposed
    assert "ETag" in exposed


def test_erasure_deletes_the_users_keys_and_registration_answer(
    api_client, fast_password_hashing
):
    body = {"email": "gone@example.com", "password": "a-Decent-passphrase-42"}
    keyed(api_client, "/api/v1/auth/register/", body, "r1")
    user = User.objects.get(email="gone@example.com")
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}"
    )
    keyed(api_client, ROUTINES, ROUTINE, "k1")
    other = keyed(
        APIClient(),
        "/api/v1/auth/register/",
        {**body, "email": "other@example.com"},
        "r1",
    )
    assert IdempotencyKey.objects.count() == 3

    user.is_active, user.deleted_at = False, timezone.now()
    user.save(update_fields=["is_active", "deleted_at"])
    erase_user(user=user)

    assert other.status_code == 201
    assert IdempotencyKey.objects.count() == 1  # the other address's
