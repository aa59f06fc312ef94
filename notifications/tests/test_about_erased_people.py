"""Messages about a person (not to them) are rewritten when that person is erased."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import UserFactory
from notifications import services
from notifications.models import Delivery

pytestmark = pytest.mark.django_db

STARTS_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def booking_for_dermatologist(derm, patient, **extra):
    return services.notify(
        user=derm,
        kind="consultation_cancelled",
        context={
            "consultation_id": "c-1",
            "starts_at": STARTS_AT,
            "dermatologist_name": "Dr Derm",
            "patient_name": patient.display_name,
            "consultation_type": "video",
            "for_dermatologist": True,
            "reason": "Private words of the patient",
            **extra,
        },
        attachments=[services.Attachment("consultation.ics", "X", "text/calendar")],
        about=[patient],
    )


def test_erasing_a_patient_rewrites_the_dermatologists_message_and_email(
    django_capture_on_commit_callbacks,
):
    # given: a dermatologist told about a patient, by feed and by e-mail
    derm = UserFactory(timezone="Europe/Paris")
    patient = UserFactory(first_name="Quintessa", last_name="Brambleton")
    with django_capture_on_commit_callbacks(execute=True):
        notification = booking_for_dermatologist(derm, patient)
    assert "Quintessa" in mail.outbox[0].body

    # when
    services.erase_user_data(user=patient)

    # then: no name, no reason, no attachment; the date still reads in their zone
    notification.refresh_from_db()
    delivery = notification.deliveries.get()
    stored = " ".join(
        [
            notification.title,
            notification.body,
            str(notification.data),
            delivery.subject,
            delivery.body_text,
            delivery.body_html,
            str(delivery.attachments),
        ]
    )
    assert "Quintessa" not in stored
    assert "Private words" not in stored
    assert "A former patient" in notification.body
    assert "1 December 2026, 10:00 CET" in notification.body
    assert delivery.attachments == []
    assert not notification.about.exists()


def test_a_pending_email_about_an_erased_patient_goes_out_without_them(
    django_capture_on_commit_callbacks,
):
    derm = UserFactory()
    patient = UserFactory(first_name="Quintessa")
    notification = booking_for_dermatologist(derm, patient)  # worker not run yet

    services.erase_user_data(user=patient)
    delivery = notification.deliveries.get()
    outcome, _ = services.send_delivery(delivery_id=delivery.pk)

    assert outcome == services.SendOutcome.SENT
    assert "Quintessa" not in mail.outbox[0].body
    assert "A former patient" in mail.outbox[0].body


def test_a_kind_without_erased_values_loses_its_text_and_data(user):
    patient = UserFactory(first_name="Quintessa")
    notification = services.notify(
        user=user,
        kind="welcome",
        context={"note": "about Quintessa"},
        about=[patient],
    )

    services.erase_user_data(user=patient)

    notification.refresh_from_db()
    assert notification.body == services.FORGOTTEN
    assert notification.data == {}
    assert Delivery.objects.get(notification=notification).body_text == (
        services.FORGOTTEN
    )


def test_other_peoples_messages_are_left_alone(user):
    patient = UserFactory(first_name="Quintessa")
    other = UserFactory(first_name="Ottoline")
    about_other = booking_for_dermatologist(user, other)
    before = (about_other.title, about_other.body)

    services.erase_user_data(user=patient)

    about_other.refresh_from_db()
    assert (about_other.title, about_other.body) == before
    assert "Ottoline" in about_other.body


def test_the_admin_shows_who_a_message_is_about_without_listing_every_user(client):
    derm, patient, bystander = UserFactory(), UserFactory(), UserFactory()
    notification = booking_for_dermatologist(derm, patient)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(
        reverse("admin:notifications_notification_change", args=[notification.pk])
    )

    assert page.status_code == 200
    assert patient.email in page.content.decode()
    assert bystander.email not in page.content.decode()
