"""Free-text reasons never go into .ics files or e-mail subjects."""

import pytest

from consultations import services
from consultations.tests.factories import (
    ConsentingPatientFactory,
    DermatologistFactory,
    next_weekday,
    paris,
)
from notifications.models import Delivery

pytestmark = pytest.mark.django_db

REASON = "Painful cystic acne along the jaw"
CANCEL = "Cancelling because of my chemotherapy schedule"
DECLINE = "Declined: please see an oncologist first"


def test_calendars_and_subjects_carry_no_reason_and_no_patient_name(
    settings, django_capture_on_commit_callbacks
):
    settings.CONSULTATION_MAX_ACTIVE_PER_PATIENT = 20
    settings.CONSULTATION_MAX_ACTIVE_PER_PAIR = 20
    patient = ConsentingPatientFactory(first_name="Ysolde", last_name="Marchbank")
    derm = DermatologistFactory()

    def book(day: int):
        return services.book_consultation(
            patient=patient,
            dermatologist=derm,
            kind="video",
            start=paris(next_weekday(day), 9),
            reason=REASON,
        )

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = book(0)
        services.confirm_consultation(consultation=confirmed, by=derm.user)
        services.cancel_consultation(consultation=book(1), by=patient, reason=CANCEL)
        services.decline_consultation(
            consultation=book(2), by=derm.user, reason=DECLINE
        )

    calendars = [
        attachment["content"]
        for attachments in Delivery.objects.values_list("attachments", flat=True)
        for attachment in attachments
    ]
    assert len(calendars) == 2  # the confirmation, to each side
    for calendar in [*calendars, services.calendar_for(consultation=confirmed)]:
        assert "BEGIN:VEVENT" in calendar
        for private in ("Painful", "Ysolde", "Marchbank", patient.email):
            assert private not in calendar
    for subject in Delivery.objects.values_list("subject", flat=True):
        for private in ("Painful", "chemotherapy", "oncologist", "Ysolde"):
            assert private not in subject
