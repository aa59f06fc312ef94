import smtplib
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from accounts import tokens
from accounts.tests.factories import UserFactory
from notifications import errors, selectors, services
from notifications.models import Delivery, Notification, Preference

pytestmark = pytest.mark.django_db


def test_notify_records_in_app_notification_and_sends_email(
    user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(user=user, kind="welcome")

    assert notification.in_app
    delivery = notification.deliveries.get()
    assert delivery.status == Delivery.Status.SENT
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject == "Welcome to Skincare"
    assert user.first_name in message.body
    assert message.alternatives[0][1] == "text/html"
    assert message.extra_headers["Message-ID"] == delivery.message_id


def test_same_idempotency_key_twice_gives_one_email(
    user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.notify(user=user, kind="welcome", idempotency_key="welcome:1")
        second = services.notify(user=user, kind="welcome", idempotency_key="welcome:1")

    assert first.pk == second.pk
    assert Notification.objects.count() == 1
    assert Delivery.objects.count() == 1
    assert len(mail.outbox) == 1


def test_unknown_kind_is_refused_and_records_nothing(user):
    with pytest.raises(errors.UnknownKind):
        services.notify(user=user, kind="nope")

    assert not Notification.objects.exists()


def test_update_preferences_refuses_half_set_quiet_hours_and_writes_nothing(user):
    with pytest.raises(errors.QuietHoursIncomplete):
        services.update_preferences(user=user, quiet_hours={"start": time(22)})

    assert not Preference.objects.filter(user=user).exists()


def test_update_preferences_refuses_an_unknown_kind_and_writes_nothing(user):
    with pytest.raises(errors.UnknownKind):
        services.update_preferences(user=user, channels={"nope": {"email": False}})

    assert not Preference.objects.filter(user=user).exists()


def test_preference_for_a_user_without_one_is_the_unsaved_default(user):
    preference = selectors.preference_for(user=user)

    assert preference.allows("welcome", "email")
    assert preference.quiet_hours_start is None
    assert not Preference.objects.filter(user=user).exists()


def test_email_is_rendered_in_the_recipients_time_zone(
    django_capture_on_commit_callbacks,
):
    tokyo = UserFactory(timezone="Asia/Tokyo")
    starts_at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            user=tokyo,
            kind="consultation_confirmed",
            context={
                "starts_at": starts_at,
                "dermatologist_name": "Dr Lee",
                "consultation_type": "video",
            },
        )

    body = mail.outbox[0].body
    assert "18:00" in body  # 09:00 UTC is 18:00 in Tokyo
    assert "JST" in body
    assert "Dr Lee" in body


def test_preference_off_for_email_keeps_in_app_only(
    user, django_capture_on_commit_callbacks
):
    services.update_preferences(user=user, channels={"welcome": {"email": False}})

    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(user=user, kind="welcome")

    assert notification.in_app
    assert not notification.deliveries.exists()
    assert mail.outbox == []


def test_every_channel_off_records_nothing(user):
    services.update_preferences(
        user=user, channels={"welcome": {"email": False, "in_app": False}}
    )

    assert services.notify(user=user, kind="welcome") is None
    assert not Notification.objects.exists()


def test_security_mail_ignores_preferences_and_stays_out_of_the_feed(
    user, django_capture_on_commit_callbacks
):
    Preference.objects.create(
        user=user,
        channels={"password_reset": {"email": False}},
        quiet_hours_start=time(0),
        quiet_hours_end=time(23, 59),
    )

    recipe = tokens.recipe(tokens.PASSWORD_RESET, user)

    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(
            user=user,
            kind="password_reset",
            context={"secret": recipe, "expires_hours": 2},
        )

    assert not notification.in_app
    assert len(mail.outbox) == 1
    assert tokens.remake_token(recipe, user) in mail.outbox[0].body


def test_quiet_hours_hold_email_until_the_window_ends(
    user, django_capture_on_commit_callbacks
):
    Preference.objects.create(
        user=user, quiet_hours_start=time(0), quiet_hours_end=time(23, 59)
    )

    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(user=user, kind="welcome")

    delivery = notification.deliveries.get()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.not_before > timezone.now()
    assert mail.outbox == []
    assert services.dispatch_pending_deliveries().requeued == 0

    Delivery.objects.filter(pk=delivery.pk).update(
        not_before=timezone.now() - timedelta(seconds=1)
    )
    services.dispatch_pending_deliveries()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert len(mail.outbox) == 1


class FlakyBackend:
    """An e-mail backend that fails with the given exception."""

    failure: Exception = smtplib.SMTPServerDisconnected("gone")

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise self.failure


class RejectingBackend(FlakyBackend):
    failure = smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"no such user")})


@override_settings(EMAIL_BACKEND="notifications.tests.test_notify.FlakyBackend")
def test_transient_failure_goes_back_to_pending_with_backoff(user):
    notification = services.notify(user=user, kind="welcome")
    delivery = notification.deliveries.get()

    outcome, delay = services.send_delivery(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert outcome == services.SendOutcome.RETRY
    assert delay >= 1
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.attempts == 1
    assert "SMTPServerDisconnected" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()


@override_settings(
    EMAIL_BACKEND="notifications.tests.test_notify.FlakyBackend",
    NOTIFICATION_EMAIL_MAX_ATTEMPTS=2,
)
def test_transient_failures_past_the_limit_mark_failed(user):
    delivery = services.notify(user=user, kind="welcome").deliveries.get()

    services.send_delivery(delivery_id=delivery.pk)
    outcome, _ = services.send_delivery(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert outcome == services.SendOutcome.FAILED
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == 2


@override_settings(EMAIL_BACKEND="notifications.tests.test_notify.RejectingBackend")
def test_permanent_failure_is_marked_failed_at_once(user):
    delivery = services.notify(user=user, kind="welcome").deliveries.get()

    outcome, _ = services.send_delivery(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert outcome == services.SendOutcome.FAILED
    assert delivery.attempts == 1
    assert "550" in delivery.last_error


def test_a_sent_delivery_is_not_sent_again(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.notify(user=user, kind="welcome").deliveries.get()

    outcome, _ = services.send_delivery(delivery_id=delivery.pk)

    assert outcome == services.SendOutcome.SKIPPED
    assert len(mail.outbox) == 1


@override_settings(NOTIFICATION_SENDING_TIMEOUT_SECONDS=60)
def test_dispatch_recovers_a_delivery_stuck_in_sending(user):
    delivery = services.notify(user=user, kind="welcome").deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENDING,
        attempts=1,
        claimed_at=timezone.now() - timedelta(minutes=5),
    )

    summary = services.dispatch_pending_deliveries()

    delivery.refresh_from_db()
    assert summary.recovered == 1
    assert delivery.status == Delivery.Status.SENT
    assert len(mail.outbox) == 1


def test_dispatch_dry_run_changes_nothing(user):
    delivery = services.notify(user=user, kind="welcome").deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=None)

    summary = services.dispatch_pending_deliveries(dry_run=True)

    delivery.refresh_from_db()
    assert summary.requeued == 1
    assert delivery.status == Delivery.Status.PENDING
    assert mail.outbox == []


def test_dispatch_leaves_recently_enqueued_deliveries_alone(user):
    services.notify(user=user, kind="welcome")

    assert services.dispatch_pending_deliveries().requeued == 0


def test_resend_puts_failed_deliveries_back(user, django_capture_on_commit_callbacks):
    delivery = services.notify(user=user, kind="welcome").deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.FAILED, attempts=6, last_error="boom"
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert services.resend_deliveries(delivery_ids=[delivery.pk]) == 1

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.attempts == 1


def test_ordinary_mail_keeps_its_body_after_sending(
    user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(user=user, kind="welcome")

    assert "Welcome" in notification.deliveries.get().body_text
