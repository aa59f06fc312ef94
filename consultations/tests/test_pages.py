from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts.tests.factories import UserFactory
from consultations.models import (
    AvailabilityException,
    Consultation,
    SharedAnalysisAccess,
    WeeklyHours,
)
from consultations.tests.factories import (
    AnalysisFactory,
    ConsultationFactory,
    SharedAnalysisFactory,
    next_weekday,
    paris,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("dermatologist:agenda"))

    assert response.status_code == 302
    assert response["Location"].startswith("/dermatologist/login/")


def test_patient_gets_403(client, user):
    client.force_login(user)

    assert client.get(reverse("dermatologist:agenda")).status_code == 403


def test_sign_in_with_email_and_password_opens_the_agenda(client, dermatologist):
    response = client.post(
        reverse("dermatologist:login"),
        {"username": dermatologist.user.email, "password": "correct-Horse-battery-9"},
        follow=True,
    )

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("dermatologist:agenda")


def test_agenda_lists_the_days_consultations_in_local_time(derm_client, dermatologist):
    monday = next_weekday(0)
    consultation = ConsultationFactory(
        dermatologist=dermatologist, start=paris(monday, 9)
    )
    ConsultationFactory(start=paris(monday, 10))  # another dermatologist's

    response = derm_client.get(
        reverse("dermatologist:agenda"), {"date": monday.isoformat()}
    )

    html = response.content.decode()
    assert consultation.patient.display_name in html
    assert "09:00\u201309:30" in html
    assert html.count("status-requested") == 1
    assert 'name="viewport"' in html


def test_week_view_shows_the_whole_week(derm_client, dermatologist):
    monday = next_weekday(0)
    ConsultationFactory(dermatologist=dermatologist, start=paris(monday, 9))
    friday = ConsultationFactory(
        dermatologist=dermatologist, start=paris(monday + timedelta(days=4), 16)
    )

    html = derm_client.get(
        reverse("dermatologist:agenda"), {"date": monday.isoformat(), "view": "week"}
    ).content.decode()

    assert html.count('<section class="day"') == 7
    assert friday.patient.display_name in html
    assert "16:00\u201316:30" in html


def test_another_dermatologists_consultation_answers_404(derm_client):
    theirs = ConsultationFactory()

    detail = derm_client.get(reverse("dermatologist:consultation", args=[theirs.pk]))
    confirm = derm_client.post(reverse("dermatologist:confirm", args=[theirs.pk]))

    assert (detail.status_code, confirm.status_code) == (404, 404)
    theirs.refresh_from_db()
    assert theirs.status == "requested"


def test_confirm_changes_status_and_mails_the_calendar_event(
    derm_client, dermatologist, django_capture_on_commit_callbacks
):
    consultation = ConsultationFactory(dermatologist=dermatologist)

    with django_capture_on_commit_callbacks(execute=True):
        response = derm_client.post(
            reverse("dermatologist:confirm", args=[consultation.pk])
        )

    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == "confirmed"
    change = consultation.status_changes.get()
    assert (change.from_status, change.changed_by) == ("requested", dermatologist.user)
    patient_mail = next(m for m in mail.outbox if m.to == [consultation.patient.email])
    filename, content, mimetype = patient_mail.attachments[0]
    assert (filename, mimetype) == ("consultation.ics", "text/calendar")
    assert Calendar.from_ical(content).walk("VEVENT")[0]["status"] == "CONFIRMED"


def test_decline_records_the_reason(derm_client, dermatologist):
    consultation = ConsultationFactory(dermatologist=dermatologist)

    derm_client.post(
        reverse("dermatologist:decline", args=[consultation.pk]),
        {"reason": "Outside my specialty"},
    )

    consultation.refresh_from_db()
    assert consultation.status == "declined"
    assert consultation.decline_reason == "Outside my specialty"


def test_complete_before_the_start_is_refused(derm_client, dermatologist):
    consultation = ConsultationFactory(dermatologist=dermatologist, status="confirmed")

    response = derm_client.post(
        reverse("dermatologist:complete", args=[consultation.pk]),
        {"notes": "x"},
        follow=True,
    )

    assert "has not started yet" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.status == "confirmed"


def test_complete_a_held_consultation_with_notes_and_routine(
    derm_client, dermatologist
):
    consultation = ConsultationFactory(
        dermatologist=dermatologist,
        status="confirmed",
        start=timezone.now() - timedelta(minutes=40),
    )

    derm_client.post(
        reverse("dermatologist:complete", args=[consultation.pk]),
        {"notes": "Mild acne.", "recommended_routine": "AM: cleanser, SPF."},
    )

    consultation.refresh_from_db()
    assert consultation.status == "completed"
    assert consultation.recommended_routine == "AM: cleanser, SPF."


def test_no_show_of_a_requested_consultation_is_refused(derm_client, dermatologist):
    consultation = ConsultationFactory(
        dermatologist=dermatologist, start=timezone.now() - timedelta(minutes=40)
    )

    derm_client.post(reverse("dermatologist:no-show", args=[consultation.pk]))

    consultation.refresh_from_db()
    assert consultation.status == "requested"


def test_confirming_a_cancelled_consultation_is_refused(derm_client, dermatologist):
    consultation = ConsultationFactory(dermatologist=dermatologist, status="cancelled")

    response = derm_client.post(
        reverse("dermatologist:confirm", args=[consultation.pk]), follow=True
    )

    assert "does not allow this" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.status == "cancelled"


def test_actions_need_a_csrf_token(dermatologist):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dermatologist.user)
    consultation = ConsultationFactory(dermatologist=dermatologist)

    response = client.post(reverse("dermatologist:confirm", args=[consultation.pk]))

    assert response.status_code == 403
    consultation.refresh_from_db()
    assert consultation.status == "requested"


def test_shared_photo_is_served_without_caching(derm_client, dermatologist):
    consultation = ConsultationFactory(dermatologist=dermatologist)
    analysis = AnalysisFactory(user=consultation.patient, with_photo=True)
    consultation.shares.create(analysis=analysis, consent_given_at=timezone.now())
    url = reverse("dermatologist:shared-photo", args=[consultation.pk, analysis.pk])

    detail = derm_client.get(
        reverse("dermatologist:consultation", args=[consultation.pk])
    )
    response = derm_client.get(url)

    assert url in detail.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")


def test_unshared_analysis_photo_answers_404(derm_client, dermatologist):
    consultation = ConsultationFactory(dermatologist=dermatologist)
    unshared = AnalysisFactory(user=consultation.patient, with_photo=True)

    response = derm_client.get(
        reverse("dermatologist:shared-photo", args=[consultation.pk, unshared.pk])
    )

    assert response.status_code == 404


def test_photo_shared_with_another_dermatologist_answers_404(derm_client):
    theirs = ConsultationFactory()
    analysis = AnalysisFactory(user=theirs.patient, with_photo=True)
    theirs.shares.create(analysis=analysis, consent_given_at=timezone.now())

    response = derm_client.get(
        reverse("dermatologist:shared-photo", args=[theirs.pk, analysis.pk])
    )

    assert response.status_code == 404


def test_weekly_hours_are_replaced(derm_client, dermatologist):
    data = {
        "action": "hours",
        "hours-TOTAL_FORMS": "3",
        "hours-INITIAL_FORMS": "0",
        "hours-0-weekday": "0",
        "hours-0-start": "08:00",
        "hours-0-end": "12:00",
        "hours-1-weekday": "0",
        "hours-1-start": "14:00",
        "hours-1-end": "18:30",
        "hours-2-weekday": "2",
        "hours-2-start": "",
        "hours-2-end": "",
    }

    response = derm_client.post(reverse("dermatologist:availability"), data)

    assert response.status_code == 302
    ranges = list(
        WeeklyHours.objects.filter(dermatologist=dermatologist).values_list(
            "weekday", "start", "end"
        )
    )
    assert [(d, f"{s:%H:%M}", f"{e:%H:%M}") for d, s, e in ranges] == [
        (0, "08:00", "12:00"),
        (0, "14:00", "18:30"),
    ]


def test_inverted_weekly_range_is_refused(derm_client, dermatologist):
    data = {
        "action": "hours",
        "hours-TOTAL_FORMS": "1",
        "hours-INITIAL_FORMS": "0",
        "hours-0-weekday": "0",
        "hours-0-start": "12:00",
        "hours-0-end": "08:00",
    }

    response = derm_client.post(reverse("dermatologist:availability"), data)

    assert response.status_code == 200
    assert "must end after it starts" in response.content.decode()
    assert WeeklyHours.objects.filter(dermatologist=dermatologist).count() == 10


def test_time_off_removes_slots(derm_client, dermatologist, api_client):
    monday = next_weekday(0)

    derm_client.post(
        reverse("dermatologist:availability"),
        {
            "action": "exception",
            "kind": "off",
            "start": f"{monday.isoformat()}T00:00",
            "end": f"{monday.isoformat()}T12:00",
            "note": "Conference",
        },
    )

    exception = AvailabilityException.objects.get(dermatologist=dermatologist)
    assert (exception.start_time.hour, exception.end_time.hour) == (0, 12)
    slots = api_client.get(
        reverse("dermatologist-slots", args=[dermatologist.pk]),
        {
            "from": paris(monday, 0).isoformat(),
            "to": paris(monday, 23).isoformat(),
            "type": "video",
        },
    ).json()["slots"]
    assert len(slots) == 8  # the afternoon only
    assert slots[0] == paris(monday, 13).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_dermatologist_role_without_profile_gets_403(client):
    client.force_login(UserFactory(role="dermatologist"))

    assert client.get(reverse("dermatologist:agenda")).status_code == 403


ACTIONS = {
    "confirm": {},
    "decline": {"reason": "Not my field."},
    "complete": {"notes": "Seen.", "recommended_routine": ""},
    "no-show": {},
}


@pytest.mark.parametrize("started", [False, True], ids=["upcoming", "started"])
@pytest.mark.parametrize("status", [s for s, _ in Consultation.Status.choices])
def test_detail_page_offers_exactly_the_actions_the_services_accept(
    derm_client, dermatologist, status, started
):
    start = timezone.now() - timedelta(minutes=10) if started else None
    consultation = ConsultationFactory(
        dermatologist=dermatologist,
        status=status,
        **({"start": start} if start else {}),
    )
    html = derm_client.get(
        reverse("dermatologist:consultation", args=[consultation.pk])
    ).content.decode()

    offered = {
        name
        for name in ACTIONS
        if reverse(f"dermatologist:{name}", args=[consultation.pk]) in html
    }
    accepted = set()
    for name, data in ACTIONS.items():
        Consultation.objects.filter(pk=consultation.pk).update(status=status)
        derm_client.post(reverse(f"dermatologist:{name}", args=[consultation.pk]), data)
        consultation.refresh_from_db()
        if consultation.status != status:
            accepted.add(name)
    assert offered == accepted


def test_consultation_says_which_actions_its_status_and_start_allow():
    now = timezone.now()
    upcoming, held = now + timedelta(hours=1), now - timedelta(minutes=5)
    Status = Consultation.Status

    def allowed(status, start):
        consultation = Consultation(status=status, start=start)
        return (
            consultation.can_confirm(now=now),
            consultation.can_decline(),
            consultation.can_close(now=now),
        )

    assert allowed(Status.REQUESTED, upcoming) == (True, True, False)
    assert allowed(Status.REQUESTED, held) == (False, True, False)
    assert allowed(Status.CONFIRMED, upcoming) == (False, True, False)
    assert allowed(Status.CONFIRMED, held) == (False, True, True)
    for ended in (Status.COMPLETED, Status.DECLINED, Status.CANCELLED, Status.NO_SHOW):
        assert allowed(ended, held) == (False, False, False)


def test_shared_photo_missing_from_storage_answers_404_logs_it_and_records_nothing(
    derm_client, dermatologist, caplog
):
    share = SharedAnalysisFactory(
        consultation=ConsultationFactory(dermatologist=dermatologist)
    )
    photo = share.analysis.photo
    photo.storage.delete(photo.name)

    response = derm_client.get(
        reverse(
            "dermatologist:shared-photo",
            args=[share.consultation_id, share.analysis_id],
        )
    )

    assert response.status_code == 404
    assert f"photo of analysis {share.analysis_id} is missing" in caplog.text
    assert not SharedAnalysisAccess.objects.filter(kind="photo").exists()


def test_detail_page_query_count_does_not_grow_with_shared_analyses(
    derm_client, dermatologist
):
    few = ConsultationFactory(dermatologist=dermatologist)
    SharedAnalysisFactory(consultation=few)
    many = ConsultationFactory(
        dermatologist=dermatologist, start=few.start + timedelta(hours=1)
    )
    for _ in range(4):
        SharedAnalysisFactory(consultation=many)
    url = reverse("dermatologist:consultation", args=[few.pk])
    derm_client.get(url)  # session and user loaded once

    with CaptureQueriesContext(connection) as one:
        derm_client.get(url)
    with CaptureQueriesContext(connection) as four:
        html = derm_client.get(
            reverse("dermatologist:consultation", args=[many.pk])
        ).content.decode()

    assert html.count("skin type oily") == 4
    assert len(four) == len(one)
