from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from consultations import services
from consultations.tests.factories import ConsultationFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("send_consultation_reminders", *args, stdout=out)
    return out.getvalue().strip()


def test_reminders_are_sent_once_each_when_run_twice(
    django_capture_on_commit_callbacks,
):
    now = timezone.now()
    tomorrow = ConsultationFactory(status="confirmed", start=now + timedelta(hours=23))
    soon = ConsultationFactory(status="confirmed", start=now + timedelta(minutes=50))

    with django_capture_on_commit_callbacks(execute=True):
        first = run()
        second = run()

    assert first == "consultation reminders sent: 24h=1 1h=1"
    assert second == "consultation reminders sent: 24h=0 1h=0"
    assert Notification.objects.filter(kind="consultation_reminder").count() == 4
    assert len(mail.outbox) == 4
    tomorrow.refresh_from_db()
    soon.refresh_from_db()
    assert tomorrow.reminder_24h_sent_at is not None
    assert tomorrow.reminder_1h_sent_at is None
    assert soon.reminder_1h_sent_at is not None
    assert soon.reminder_24h_sent_at is None


def test_the_hour_before_reminder_follows_the_day_before_one():
    start = timezone.now() + timedelta(hours=23)
    consultation = ConsultationFactory(status="confirmed", start=start)

    services.send_due_reminders(now=start - timedelta(hours=23))
    counts = services.send_due_reminders(now=start - timedelta(minutes=55))

    assert counts == {"24h": 0, "1h": 1}
    keys = set(
        Notification.objects.filter(recipient=consultation.patient).values_list(
            "idempotency_key", flat=True
        )
    )
    assert keys == {
        f"consultation:{consultation.pk}:reminder-24h-0:{consultation.patient.pk}",
        f"consultation:{consultation.pk}:reminder-1h-0:{consultation.patient.pk}",
    }


def test_unconfirmed_and_cancelled_consultations_get_no_reminder():
    now = timezone.now()
    ConsultationFactory(status="requested", start=now + timedelta(hours=2))
    ConsultationFactory(status="cancelled", start=now + timedelta(minutes=30))

    assert services.send_due_reminders(now=now) == {"24h": 0, "1h": 0}


def test_dry_run_counts_but_sends_nothing():
    ConsultationFactory(status="confirmed", start=timezone.now() + timedelta(hours=3))

    output = run("--dry-run")

    assert output == "consultation reminders due: 24h=1 1h=0 (dry run)"
    assert not Notification.objects.exists()


def test_help_names_the_schedule():
    from consultations.management.commands.send_consultation_reminders import Command

    assert "every 5 minutes" in Command.help
