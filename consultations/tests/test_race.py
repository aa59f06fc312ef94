"""Concurrent bookings against a real PostgreSQL: the database keeps them apart."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, connections, transaction
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from consultations.models import Consultation
from consultations.tests.factories import (
    ConsultationFactory,
    DermatologistFactory,
    next_weekday,
    paris,
)

THREADS = 8


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}"
    )
    return client


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_one_slot_give_one_201_and_409s(requires_postgres):
    dermatologist = DermatologistFactory()
    start = paris(next_weekday(0), 9)
    clients = [_client(UserFactory()) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    codes: list[str] = []
    lock = threading.Lock()

    def book(client):
        try:
            barrier.wait(timeout=10)
            response = client.post(
                "/api/v1/consultations/",
                {
                    "dermatologist": str(dermatologist.pk),
                    "start": start.isoformat(),
                    "type": "video",
                },
                format="json",
            )
            with lock:
                statuses.append(response.status_code)
                if response.status_code != 201:
                    codes.append(response.json()["errors"][0]["code"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=book, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [201] + [409] * (THREADS - 1)
    assert set(codes) == {"slot_taken"}
    assert Consultation.objects.filter(dermatologist=dermatologist).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_overlapping_types_give_one_booking(requires_postgres):
    """A 30-minute video and a 45-minute visit at 09:00 cannot both be taken."""
    dermatologist = DermatologistFactory(
        types=[("video", 45, "60.00"), ("in_person", 45, "90.00")]
    )
    start = paris(next_weekday(0), 9)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def book(kind):
        try:
            client = _client(UserFactory())
            barrier.wait(timeout=10)
            response = client.post(
                "/api/v1/consultations/",
                {
                    "dermatologist": str(dermatologist.pk),
                    "start": start.isoformat(),
                    "type": kind,
                },
                format="json",
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=book, args=(k,)) for k in ("video", "in_person")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [201, 409]


@pytest.mark.django_db
def test_database_refuses_overlapping_active_consultations(requires_postgres):
    """The exclusion constraint holds even for writes that skip the service."""
    booked = ConsultationFactory()

    with (
        pytest.raises(IntegrityError, match="consultation_no_overlap"),
        transaction.atomic(),
    ):
        ConsultationFactory(
            dermatologist=booked.dermatologist,
            start=booked.start + timedelta(minutes=15),
        )


@pytest.mark.django_db
def test_database_allows_overlap_with_inactive_and_back_to_back(requires_postgres):
    booked = ConsultationFactory()
    ConsultationFactory(
        dermatologist=booked.dermatologist, start=booked.start, status="cancelled"
    )
    ConsultationFactory(dermatologist=booked.dermatologist, start=booked.end)

    assert connection.vendor == "postgresql"
    assert Consultation.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_booking_and_reschedule_onto_one_slot_give_one_winner(
    requires_postgres,
):
    """Both take the slot through the same lock and re-check: one wins, one 409s."""
    dermatologist = DermatologistFactory()
    monday = next_weekday(0)
    moving = ConsultationFactory(dermatologist=dermatologist, start=paris(monday, 14))
    target = paris(monday, 9)
    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def reschedule():
        try:
            client = _client(moving.patient)
            barrier.wait(timeout=10)
            statuses["reschedule"] = client.post(
                f"/api/v1/consultations/{moving.pk}/reschedule/",
                {"start": target.isoformat()},
                format="json",
            ).status_code
        finally:
            connections.close_all()

    def book():
        try:
            client = _client(UserFactory())
            barrier.wait(timeout=10)
            statuses["book"] = client.post(
                "/api/v1/consultations/",
                {
                    "dermatologist": str(dermatologist.pk),
                    "start": target.isoformat(),
                    "type": "video",
                },
                format="json",
            ).status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reschedule), threading.Thread(target=book)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # whichever takes the lock first wins: the booking (201) or the move (200)
    assert sorted(statuses.values()) in ([200, 409], [201, 409])
    active = Consultation.objects.filter(
        dermatologist=dermatologist, status__in=Consultation.ACTIVE_STATUSES
    )
    assert active.filter(start=target).count() == 1
