"""One-time codes (verification, reset) live only in the e-mail that carries them."""

import json
import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.test import override_settings as override
from django.urls import reverse
from django.utils import timezone

from accounts import tokens
from accounts.services import send_password_reset
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import (
    EMAIL_URL,
    EXPORT_URL,
    REGISTER_URL,
    RESET_CONFIRM_URL,
    RESET_URL,
    VERIFY_URL,
    token_in,
)
from notifications import services
from notifications.models import Delivery, Notification
from skincare.logging import REDACTED, redact_text
from skincare.testing import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

RESET_LINK = "https://app.example.com/reset?token={token}"
VERIFY_LINK = "https://app.example.com/verify/{token}"
# SMTP on a loopback port where nothing listens: a real connection refusal.
NOBODY_LISTENS = {
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "127.0.0.1",
    "EMAIL_TIMEOUT": 2,
}


@pytest.fixture(autouse=True)
def _links(settings):
    settings.ACCOUNT_PASSWORD_RESET_URL = RESET_LINK
    settings.ACCOUNT_EMAIL_VERIFY_URL = VERIFY_LINK


def stored_text() -> str:
    """Every text and JSON column of every notification and delivery row, any status."""
    rows = []
    for model in (Notification, Delivery):
        for row in model.objects.values():
            rows.append(json.dumps(row, default=str))
    return "\n".join(rows)


def admin_pages(client: Client) -> str:
    """The notification and delivery changelists and every change page, as staff see."""
    pages = []
    for model in (Notification, Delivery):
        info = model._meta.app_label, model._meta.model_name
        pages.append(client.get(reverse("admin:{}_{}_changelist".format(*info))))
        for pk in model.objects.values_list("pk", flat=True):
            pages.append(
                client.get(reverse("admin:{}_{}_change".format(*info), args=[pk]))
            )
    assert all(page.status_code == 200 for page in pages)
    return "\n".join(page.content.decode() for page in pages)


def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def secrets_of(message) -> list[str]:
    code = token_in(message)
    return [code, RESET_LINK.format(token=code), VERIFY_LINK.format(token=code)]


def test_codes_from_registration_email_change_and_reset_are_stored_nowhere(
    api_client, client_for, mailoutbox, django_capture_on_commit_callbacks
):
    # given: a registration, an e-mail change to a new address and a reset request
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(
            REGISTER_URL,
            {"email": "ana@example.com", "password": "a-Decent-passphrase-42"},
        )
    verification = mailoutbox[-1]
    assert (
        api_client.post(VERIFY_URL, {"token": token_in(verification)}).status_code
        == 200
    )
    user = UserFactory._meta.model.objects.get(email="ana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(user).post(
            EMAIL_URL,
            {"new_email": "ana.new@example.com", "password": "a-Decent-passphrase-42"},
        )
    change = mailoutbox[-1]
    assert change.to == ["ana.new@example.com"]
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(RESET_URL, {"email": "ana@example.com"})
    reset = mailoutbox[-1]
    assert reset.subject == "Reset your password"

    # then: each mail carries its code and link, and no stored row or admin page does
    secrets = secrets_of(verification) + secrets_of(change) + secrets_of(reset)
    assert RESET_LINK.format(token=token_in(reset)) in reset.body
    assert VERIFY_LINK.format(token=token_in(change)) in change.alternatives[0][0]
    stored, admin = stored_text(), admin_pages(staff_client())
    export = client_for(user).get(EXPORT_URL).content.decode()
    for secret in secrets:
        assert secret not in stored
        assert secret not in admin
        assert secret not in export
    assert "Reset your password" in admin  # staff see that the mail was sent

    # and the codes work
    response = api_client.post(
        RESET_CONFIRM_URL,
        {"token": token_in(reset), "new_password": "a-Fresh-passphrase-77"},
    )
    assert response.status_code == 204, response.content
    assert api_client.post(VERIFY_URL, {"token": token_in(change)}).status_code == 200


def test_pending_failed_and_sent_reset_mails_store_no_code(
    user, settings, mailoutbox, django_capture_on_commit_callbacks
):
    # given: one reset mail waiting for a worker, one failed for good, one sent
    send_password_reset(email=user.email)  # on-commit never runs: stays pending
    settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS = 1
    with (
        override(**NOBODY_LISTENS, EMAIL_PORT=free_port()),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_password_reset(email=user.email)
    with django_capture_on_commit_callbacks(execute=True):
        send_password_reset(email=user.email)

    # then
    statuses = sorted(Delivery.objects.values_list("status", flat=True))
    assert statuses == ["failed", "pending", "sent"]
    [sent] = mailoutbox
    codes = {
        tokens.remake_token(n.data["secret"], user)
        for n in Notification.objects.filter(kind="password_reset")
    }
    assert token_in(sent) in codes
    stored, admin = stored_text(), admin_pages(staff_client())
    for code in codes:
        for secret in (code, RESET_LINK.format(token=code)):
            assert secret not in stored
            assert secret not in admin


def reset_notification(user, *, issued_at=None) -> Notification:
    recipe = tokens.recipe(tokens.PASSWORD_RESET, user, issued_at=issued_at)
    return services.notify(
        user=user,
        kind="password_reset",
        context={"secret": recipe, "expires_hours": 2},
    )


def test_a_retried_reset_mail_carries_the_code_issued_at_request_time(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    # given: the first attempt meets an SMTP server that is down
    issued_at = timezone.now() - timedelta(minutes=30)
    with (
        override(**NOBODY_LISTENS, EMAIL_PORT=free_port()),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notification = reset_notification(user, issued_at=issued_at)
    delivery = notification.deliveries.get()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_error

    # when: the retry runs later
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
    outcome, _ = services.send_delivery(delivery_id=delivery.pk)

    # then: the same code as at request time, still dated from then
    assert outcome == services.SendOutcome.SENT
    expected = tokens.make_token(tokens.PASSWORD_RESET, user, issued_at=issued_at)
    assert token_in(mailoutbox[0]) == expected
    assert expected not in stored_text()


def test_dispatch_redrive_and_staff_resend_send_the_same_working_code(
    api_client, user, mailoutbox, django_capture_on_commit_callbacks, settings
):
    # given: a reset mail left pending by a lost broker message
    notification = reset_notification(user)
    delivery = notification.deliveries.get()
    settings.NOTIFICATION_REQUEUE_AFTER_SECONDS = 0
    Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=None)

    # when: cron re-drives it, then staff resend it after a failure
    with django_capture_on_commit_callbacks(execute=True):
        services.dispatch_pending_deliveries()
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client().post(
            reverse("admin:notifications_delivery_changelist"),
            {"action": "resend", "_selected_action": [str(delivery.pk)]},
        )

    # then: both mails carry one code, which works and is stored nowhere
    first, second = mailoutbox
    assert token_in(first) == token_in(second)
    assert token_in(first) not in stored_text()
    response = api_client.post(
        RESET_CONFIRM_URL,
        {"token": token_in(first), "new_password": "a-Fresh-passphrase-77"},
    )
    assert response.status_code == 204


def test_a_code_that_expired_before_sending_is_never_mailed(
    user, mailoutbox, django_capture_on_commit_callbacks, settings
):
    issued_at = timezone.now() - timedelta(hours=settings.ACCOUNT_PASSWORD_RESET_HOURS)

    with django_capture_on_commit_callbacks(execute=True):
        notification = reset_notification(user, issued_at=issued_at)

    delivery = notification.deliveries.get()
    assert delivery.status == Delivery.Status.FAILED
    assert "expired" in delivery.last_error
    assert mailoutbox == []


def test_no_log_line_on_the_reset_path_holds_the_code_or_link(
    api_client, user, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.DEBUG)

    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(RESET_URL, {"email": user.email})
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(
            RESET_CONFIRM_URL,
            {"token": token_in(mailoutbox[0]), "new_password": "a-Fresh-passphrase-77"},
        )

    code = token_in(mailoutbox[0])
    logged = "\n".join(
        f"{record.getMessage()} {record.__dict__}" for record in caplog.records
    )
    assert caplog.records
    assert code not in logged


def test_a_log_record_with_a_code_or_reset_link_is_redacted(user, caplog):
    code = tokens.make_token(tokens.PASSWORD_RESET, user)
    quoted = code.replace(":", "%3A")

    logging.getLogger("skincare.test").warning(
        "mailing %s and %s", RESET_LINK.format(token=code), f"/r?code={quoted}"
    )

    [record] = caplog.records
    assert code not in record.getMessage()
    assert quoted not in record.getMessage()
    assert REDACTED in record.getMessage()
    assert redact_text(f"Code: {code}") == f"Code: {REDACTED}"


def test_ordinary_colon_separated_text_is_not_redacted():
    text = "2026-11-30T15:42:42 consultation 4b7a:10:00 done in 12:30:45"
    assert redact_text(text) == text
