from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from icalendar import Calendar

from accounts.tests.factories import UserFactory
from consultations import errors, services
from consultations.models import Consultation, ConsultationStatusChange
from consultations.tests.factories import (
    AnalysisFactory,
    ConsultationFactory,
    DermatologistFactory,
    next_weekday,
    paris,
)
from notifications.models import Notification

pytestmark = pytest.mark.django_db

URL = "/api/v1/consultations/"


def codes(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e["attr"]) for e in response.json()["errors"]]


def payload(dermatologist, start, **extra) -> dict:
    return {
        "dermatologist": str(dermatologist.pk),
        "start": start.isoformat(),
        "type": "video",
        "reason": "Acne flare-up",
        **extra,
    }


@pytest.fixture
def monday():
    return next_weekday(0)


def test_booking_a_free_slot_answers_201_with_money_and_history(
    auth_client, user, dermatologist, monday
):
    response = auth_client.post(URL, payload(dermatologist, paris(monday, 9)))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "requested"
    assert (body["fee"], body["currency"]) == ("60.00", "EUR")
    consultation = Consultation.objects.get(pk=body["id"])
    assert consultation.end - consultation.start == timedelta(minutes=30)
    change = ConsultationStatusChange.objects.get(consultation=consultation)
    assert (change.to_status, change.changed_by) == ("requested", user)


def test_booking_notifies_patient_and_dermatologist_once_each(
    auth_client, user, dermatologist, monday, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = auth_client.post(URL, payload(dermatologist, paris(monday, 9))).json()

    keys = set(Notification.objects.values_list("idempotency_key", flat=True))
    assert keys == {
        f"consultation:{body['id']}:booked:{user.pk}",
        f"consultation:{body['id']}:booked:{dermatologist.user.pk}",
    }
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [user.email, dermatologist.user.email]
    )


def test_start_off_the_slot_grid_is_refused(auth_client, dermatologist, monday):
    response = auth_client.post(URL, payload(dermatologist, paris(monday, 9, 10)))

    assert response.status_code == 400
    assert codes(response) == [("slot_unavailable", "start")]


def test_start_outside_working_hours_is_refused(auth_client, dermatologist, monday):
    response = auth_client.post(URL, payload(dermatologist, paris(monday, 12)))

    assert codes(response) == [("slot_unavailable", "start")]


def test_start_in_the_past_is_refused(auth_client, dermatologist):
    past = paris(next_weekday(0, weeks_ahead=-1), 9)

    response = auth_client.post(URL, payload(dermatologist, past))

    assert codes(response) == [("slot_in_past", "start")]


def test_start_beyond_the_horizon_is_refused(auth_client):
    dermatologist = DermatologistFactory(horizon_days=7)
    far = paris(next_weekday(0, weeks_ahead=4), 9)

    response = auth_client.post(URL, payload(dermatologist, far))

    assert codes(response) == [("outside_booking_horizon", "start")]


def test_naive_start_is_refused(auth_client, dermatologist, monday):
    data = payload(dermatologist, paris(monday, 9))
    data["start"] = "2030-01-07T09:00:00"

    response = auth_client.post(URL, data)

    assert codes(response) == [("naive", "start")]


def test_out_of_range_start_answers_400_not_500(auth_client, dermatologist, monday):
    data = payload(dermatologist, paris(monday, 9))
    data["start"] = "2030-01-07T09:61:00+01:00"

    response = auth_client.post(URL, data)

    assert codes(response) == [("invalid", "start")]


def test_unknown_type_is_refused(auth_client, monday):
    dermatologist = DermatologistFactory(types=[("video", 30, "60.00")])

    response = auth_client.post(
        URL, payload(dermatologist, paris(monday, 9), type="in_person")
    )

    assert codes(response) == [("unknown_consultation_type", "type")]


def test_unverified_dermatologist_cannot_be_booked(auth_client, monday):
    dermatologist = DermatologistFactory(verified_at=None)

    response = auth_client.post(URL, payload(dermatologist, paris(monday, 9)))

    assert codes(response) == [("does_not_exist", "dermatologist")]


def test_bookable_dermatologist_is_only_a_verified_active_one():
    unverified = DermatologistFactory(verified_at=None)
    inactive = DermatologistFactory(user__is_active=False)
    verified = DermatologistFactory()

    for refused in (unverified, inactive):
        with pytest.raises(errors.UnknownDermatologist):
            services.bookable_dermatologist(dermatologist_id=refused.pk)

    assert services.bookable_dermatologist(dermatologist_id=verified.pk) == verified


def test_unverified_email_cannot_book(client_for, dermatologist, monday):
    client = client_for(UserFactory(email_verified_at=None))

    response = client.post(URL, payload(dermatologist, paris(monday, 9)))

    assert response.status_code == 403
    assert codes(response) == [("email_not_verified", None)]
    assert not Consultation.objects.exists()


def test_taken_slot_answers_409(auth_client, dermatologist, monday):
    ConsultationFactory(dermatologist=dermatologist, start=paris(monday, 9))

    response = auth_client.post(URL, payload(dermatologist, paris(monday, 9)))

    assert response.status_code == 409
    assert codes(response) == [("slot_taken", None)]


def test_slot_inside_the_buffer_of_another_booking_is_taken(auth_client, monday):
    dermatologist = DermatologistFactory(buffer_minutes=15)
    ConsultationFactory(dermatologist=dermatologist, start=paris(monday, 9))

    response = auth_client.post(URL, payload(dermatologist, paris(monday, 9, 30)))

    assert codes(response) == [("slot_taken", None)]


def test_cancelled_booking_frees_its_slot(auth_client, dermatologist, monday):
    ConsultationFactory(
        dermatologist=dermatologist, start=paris(monday, 9), status="cancelled"
    )

    response = auth_client.post(URL, payload(dermatologist, paris(monday, 9)))

    assert response.status_code == 201


def test_own_completed_analysis_is_shared_with_recorded_consent(
    auth_client, user, dermatologist, monday
):
    analysis = AnalysisFactory(user=user)

    response = auth_client.post(
        URL,
        payload(
            dermatologist,
            paris(monday, 9),
            analyses=[str(analysis.pk)],
            consent_share_with_dermatologists=True,
        ),
    )

    assert response.status_code == 201
    assert response.json()["shared_analyses"] == [str(analysis.pk)]
    share = Consultation.objects.get().shares.get()
    assert share.analysis == analysis
    assert share.consent_given_at is not None


def test_sharing_without_consent_is_refused(auth_client, user, dermatologist, monday):
    analysis = AnalysisFactory(user=user)

    response = auth_client.post(
        URL, payload(dermatologist, paris(monday, 9), analyses=[str(analysis.pk)])
    )

    assert codes(response) == [
        ("consent_required", "consent_share_with_dermatologists")
    ]


def test_earlier_consent_on_the_profile_is_enough(client_for, dermatologist, monday):
    consented_at = timezone.now() - timedelta(days=3)
    patient = UserFactory(consent_share_with_dermatologists_at=consented_at)
    analysis = AnalysisFactory(user=patient)

    response = client_for(patient).post(
        URL, payload(dermatologist, paris(monday, 9), analyses=[str(analysis.pk)])
    )

    assert response.status_code == 201
    assert Consultation.objects.get().shares.get().consent_given_at == consented_at


def test_another_patients_analysis_cannot_be_shared(
    auth_client, other_user, dermatologist, monday
):
    analysis = AnalysisFactory(user=other_user)

    response = auth_client.post(
        URL,
        payload(
            dermatologist,
            paris(monday, 9),
            analyses=[str(analysis.pk)],
            consent_share_with_dermatologists=True,
        ),
    )

    assert codes(response) == [("analysis_not_shareable", "analyses")]
    assert not Consultation.objects.exists()


def test_unfinished_analysis_cannot_be_shared(auth_client, user, dermatologist, monday):
    analysis = AnalysisFactory(user=user, status="processing")

    response = auth_client.post(
        URL,
        payload(
            dermatologist,
            paris(monday, 9),
            analyses=[str(analysis.pk)],
            consent_share_with_dermatologists=True,
        ),
    )

    assert codes(response) == [("analysis_not_shareable", "analyses")]


def test_dermatologist_cannot_book_themselves(client_for, dermatologist, monday):
    response = client_for(dermatologist.user).post(
        URL, payload(dermatologist, paris(monday, 9))
    )

    assert codes(response) == [("cannot_book_self", "dermatologist")]


# ------------------------------------------------------------------------------
# Reading, scoping
# ------------------------------------------------------------------------------
def test_another_patients_consultation_answers_404(auth_client, other_user):
    theirs = ConsultationFactory(patient=other_user)

    assert auth_client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert auth_client.post(f"{URL}{theirs.pk}/cancel/").status_code == 404
    assert auth_client.get(f"{URL}{theirs.pk}/calendar.ics").status_code == 404


def test_list_shows_only_own_consultations(auth_client, user, other_user):
    mine = ConsultationFactory(patient=user)
    ConsultationFactory(patient=other_user)

    results = auth_client.get(URL).json()["results"]

    assert [c["id"] for c in results] == [str(mine.pk)]


@pytest.mark.parametrize("count", [2, 10])
def test_list_query_count_does_not_grow(
    auth_client, user, django_assert_num_queries, count
):
    monday = next_weekday(0)
    for i in range(count):
        consultation = ConsultationFactory(
            patient=user,
            dermatologist=DermatologistFactory(),
            start=paris(monday, 9) + timedelta(days=i),
        )
        consultation.shares.create(
            analysis=AnalysisFactory(user=user), consent_given_at=timezone.now()
        )

    # user (JWT), count, page, shares
    with django_assert_num_queries(4):
        response = auth_client.get(URL)

    assert response.json()["count"] == count


# ------------------------------------------------------------------------------
# Cancel and reschedule
# ------------------------------------------------------------------------------
def test_patient_cancels_before_the_window(
    auth_client, user, django_capture_on_commit_callbacks
):
    consultation = ConsultationFactory(patient=user, status="confirmed")

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(
            f"{URL}{consultation.pk}/cancel/", {"reason": "ill"}
        )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert Notification.objects.filter(kind="consultation_cancelled").count() == 2


def test_cancel_inside_the_window_is_refused(auth_client, user):
    consultation = ConsultationFactory(
        patient=user, start=timezone.now() + timedelta(hours=23)
    )

    response = auth_client.post(f"{URL}{consultation.pk}/cancel/")

    assert response.status_code == 400
    assert codes(response) == [("outside_change_window", None)]
    consultation.refresh_from_db()
    assert consultation.status == "requested"


@override_settings(CONSULTATION_CHANGE_WINDOW_HOURS=2)
def test_change_window_comes_from_settings(auth_client, user):
    consultation = ConsultationFactory(
        patient=user, start=timezone.now() + timedelta(hours=3)
    )

    response = auth_client.post(f"{URL}{consultation.pk}/cancel/")

    assert response.status_code == 200


def test_cancelling_twice_is_a_conflict(auth_client, user):
    consultation = ConsultationFactory(patient=user, status="cancelled")

    response = auth_client.post(f"{URL}{consultation.pk}/cancel/")

    assert response.status_code == 409
    assert codes(response) == [("invalid_status_transition", None)]


def test_reschedule_moves_to_the_new_slot_and_frees_the_old(
    auth_client, user, dermatologist, monday, django_capture_on_commit_callbacks
):
    consultation = ConsultationFactory(
        patient=user,
        dermatologist=dermatologist,
        start=paris(monday, 9),
        status="confirmed",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(
            f"{URL}{consultation.pk}/reschedule/",
            {"start": paris(monday, 14).isoformat()},
        )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["start"] == paris(monday, 14).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["status"] == "requested"
    change = consultation.status_changes.get()
    assert change.previous_start == paris(monday, 9)
    assert Notification.objects.filter(kind="consultation_rescheduled").count() == 2
    other = UserFactory()
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(other).access_token}"
    )
    assert client.post(URL, payload(dermatologist, paris(monday, 9))).status_code == 201


def test_reschedule_to_a_taken_slot_keeps_the_old_one(
    auth_client, user, dermatologist, monday
):
    consultation = ConsultationFactory(
        patient=user, dermatologist=dermatologist, start=paris(monday, 9)
    )
    ConsultationFactory(dermatologist=dermatologist, start=paris(monday, 14))

    response = auth_client.post(
        f"{URL}{consultation.pk}/reschedule/", {"start": paris(monday, 14).isoformat()}
    )

    assert response.status_code == 409
    assert codes(response) == [("slot_taken", None)]
    consultation.refresh_from_db()
    assert consultation.start == paris(monday, 9)
    assert consultation.status_changes.count() == 0


def test_reschedule_into_an_overlapping_slot_of_its_own_old_time_works(
    auth_client, user, dermatologist, monday
):
    """Its own current booking does not block the move (moving by half an hour)."""
    consultation = ConsultationFactory(
        patient=user,
        dermatologist=dermatologist,
        kind="in_person",
        start=paris(monday, 9),
        end=paris(monday, 9, 45),
    )

    response = auth_client.post(
        f"{URL}{consultation.pk}/reschedule/",
        {"start": paris(monday, 9, 45).isoformat()},
    )

    assert response.status_code == 200, response.json()


def test_reschedule_inside_the_window_is_refused(auth_client, user, dermatologist):
    consultation = ConsultationFactory(
        patient=user,
        dermatologist=dermatologist,
        start=timezone.now() + timedelta(hours=5),
    )

    response = auth_client.post(
        f"{URL}{consultation.pk}/reschedule/",
        {"start": paris(next_weekday(0), 9).isoformat()},
    )

    assert codes(response) == [("outside_change_window", None)]


def test_rescheduling_a_cancelled_consultation_is_a_conflict(
    auth_client, user, dermatologist, monday
):
    consultation = ConsultationFactory(
        patient=user, dermatologist=dermatologist, status="cancelled"
    )

    response = auth_client.post(
        f"{URL}{consultation.pk}/reschedule/", {"start": paris(monday, 14).isoformat()}
    )

    assert response.status_code == 409
    assert codes(response) == [("invalid_status_transition", None)]
    consultation.refresh_from_db()
    assert (consultation.status, consultation.reschedule_count) == ("cancelled", 0)


# ------------------------------------------------------------------------------
# Calendar
# ------------------------------------------------------------------------------
def test_calendar_is_a_valid_icalendar_event(auth_client, user, monday):
    consultation = ConsultationFactory(
        patient=user, start=paris(monday, 9), status="confirmed"
    )

    response = auth_client.get(f"{URL}{consultation.pk}/calendar.ics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == paris(monday, 9)
    assert event.decoded("dtend") == paris(monday, 9, 30)
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["uid"]) == f"consultation-{consultation.pk}@skincare.local"
    assert calendar["version"] == "2.0"


def test_calendar_can_be_asked_for_by_its_media_type(auth_client, user):
    consultation = ConsultationFactory(patient=user)

    response = auth_client.get(
        f"{URL}{consultation.pk}/calendar.ics", HTTP_ACCEPT="text/calendar"
    )

    assert response.status_code == 200
    assert b"BEGIN:VCALENDAR" in response.content
