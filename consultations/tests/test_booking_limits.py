"""A patient holds a bounded number of upcoming bookings: in all, per dermatologist."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from consultations.models import Consultation, ConsultationStatusChange
from consultations.tests.factories import (
    AnalysisFactory,
    ConsultationFactory,
    DermatologistFactory,
    next_weekday,
    paris,
)
from notifications.models import Notification

URL = "/api/v1/consultations/"


def payload(dermatologist, start, **extra) -> dict:
    return {
        "dermatologist": str(dermatologist.pk),
        "start": start.isoformat(),
        "type": "video",
        **extra,
    }


def error(response) -> tuple[int, str]:
    return response.status_code, response.json()["errors"][0]["code"]


@pytest.fixture
def limits(settings):
    settings.CONSULTATION_MAX_ACTIVE_PER_PATIENT = 3
    settings.CONSULTATION_MAX_ACTIVE_PER_PAIR = 2
    return settings


@pytest.fixture
def monday():
    return next_weekday(0)


@pytest.mark.django_db
@pytest.mark.usefixtures("limits")
def test_booking_past_the_per_patient_limit_answers_409_and_writes_nothing(
    auth_client, user, monday
):
    for hour in (9, 10, 11):
        ConsultationFactory(patient=user, start=paris(monday, hour))
    dermatologist = DermatologistFactory()
    analysis = AnalysisFactory(user=user)
    counts = (
        Consultation.objects.count(),
        ConsultationStatusChange.objects.count(),
        Notification.objects.count(),
    )

    response = auth_client.post(
        URL,
        payload(
            dermatologist,
            paris(monday, 14),
            analyses=[str(analysis.pk)],
            consent_share_with_dermatologists=True,
        ),
        format="json",
    )

    assert error(response) == (409, "too_many_active_bookings")
    assert "at most 3" in response.json()["errors"][0]["detail"]
    assert counts == (
        Consultation.objects.count(),
        ConsultationStatusChange.objects.count(),
        Notification.objects.count(),
    )
    user.refresh_from_db()
    assert user.consent_share_with_dermatologists_at is None


@pytest.mark.django_db
@pytest.mark.usefixtures("limits")
def test_booking_past_the_per_pair_limit_answers_409(auth_client, user, monday):
    dermatologist = DermatologistFactory()
    for hour in (9, 10):
        ConsultationFactory(
            patient=user, dermatologist=dermatologist, start=paris(monday, hour)
        )

    response = auth_client.post(URL, payload(dermatologist, paris(monday, 14)))

    assert error(response) == (409, "too_many_active_bookings_with_dermatologist")
    assert Consultation.objects.filter(patient=user).count() == 2


@pytest.mark.django_db
@pytest.mark.usefixtures("limits")
def test_another_dermatologist_can_be_booked_when_one_pair_is_full(
    auth_client, user, monday
):
    full = DermatologistFactory()
    for hour in (9, 10):
        ConsultationFactory(patient=user, dermatologist=full, start=paris(monday, hour))

    response = auth_client.post(URL, payload(DermatologistFactory(), paris(monday, 9)))

    assert response.status_code == 201, response.json()


@pytest.mark.django_db
@pytest.mark.usefixtures("limits")
def test_ended_and_past_bookings_do_not_count_towards_the_limits(
    auth_client, user, monday
):
    dermatologist = DermatologistFactory()
    for status in ("cancelled", "declined", "completed", "no_show"):
        ConsultationFactory(
            patient=user,
            dermatologist=dermatologist,
            status=status,
            start=paris(monday, 9),
        )
    for days in (1, 2, 3):
        ConsultationFactory(
            patient=user,
            dermatologist=dermatologist,
            status="confirmed",
            start=timezone.now() - timedelta(days=days),
        )

    response = auth_client.post(URL, payload(dermatologist, paris(monday, 9)))

    assert response.status_code == 201, response.json()


@pytest.mark.django_db
@pytest.mark.usefixtures("limits")
def test_rescheduling_at_the_limit_is_allowed(auth_client, user, monday):
    dermatologist = DermatologistFactory()
    for hour in (9, 10):
        ConsultationFactory(
            patient=user, dermatologist=dermatologist, start=paris(monday, hour)
        )
    moved = ConsultationFactory(patient=user, start=paris(monday, 11))

    response = auth_client.post(
        f"{URL}{moved.pk}/reschedule/",
        {"start": paris(monday, 14).isoformat()},
        format="json",
    )

    assert response.status_code == 200, response.json()


def test_default_limits_are_five_in_all_and_two_per_dermatologist(settings):
    assert settings.CONSULTATION_MAX_ACTIVE_PER_PATIENT == 5
    assert settings.CONSULTATION_MAX_ACTIVE_PER_PAIR == 2


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}"
    )
    return client


def _book_at_once(jobs: list[tuple[APIClient, dict]]) -> list[tuple[int, str]]:
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def book(client, data):
        try:
            barrier.wait(timeout=10)
            response = client.post(URL, data, format="json")
            code = "" if response.status_code == 201 else error(response)[1]
            with lock:
                results.append((response.status_code, code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=book, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_with_different_dermatologists_keep_the_patient_limit(
    requires_postgres, limits
):
    patient = UserFactory()
    monday = next_weekday(0)
    jobs = [
        (_client(patient), payload(DermatologistFactory(), paris(monday, 9)))
        for _ in range(6)
    ]

    results = _book_at_once(jobs)

    assert sorted(results) == [(201, "")] * 3 + [(409, "too_many_active_bookings")] * 3
    assert Consultation.objects.filter(patient=patient).count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_one_dermatologist_keep_the_pair_limit(
    requires_postgres, limits
):
    patient = UserFactory()
    dermatologist = DermatologistFactory()
    monday = next_weekday(0)
    jobs = [
        (_client(patient), payload(dermatologist, paris(monday, hour)))
        for hour in (9, 10, 11, 13, 14)
    ]

    results = _book_at_once(jobs)

    assert (
        sorted(results)
        == [(201, "")] * 2 + [(409, "too_many_active_bookings_with_dermatologist")] * 3
    )
    assert Consultation.objects.filter(patient=patient).count() == 2
