"""End to end with real processes: Celery worker, Redis broker, SMTP on loopback."""

from types import SimpleNamespace

import pytest
from django.db import transaction
from django.test import override_settings

from notifications import services
from notifications.models import Delivery, Notification
from notifications.tests.conftest import wait_until
from skincare.testing import BROKER_URL, use_broker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def delivery_of(notification) -> Delivery:
    return Delivery.objects.get(notification=notification)


def test_worker_sends_the_email_through_smtp(user, smtp_server, start_worker):
    _, inbox = smtp_server
    start_worker()

    with transaction.atomic():
        notification = services.notify(user=user, kind="welcome")

    wait_until(lambda: inbox.messages)
    message = inbox.messages[0]
    assert message["To"] == user.email
    assert message["Subject"] == "Welcome to Skincare"
    assert message["Message-ID"] == delivery_of(notification).message_id
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    assert user.first_name in text.get_payload(decode=True).decode()
    wait_until(lambda: delivery_of(notification).status == Delivery.Status.SENT)


def test_smtp_refusing_for_a_while_then_recovering_delivers_once(
    user, smtp_server, start_worker
):
    _, inbox = smtp_server
    inbox.refuse_first = 2
    start_worker()

    with transaction.atomic():
        notification = services.notify(user=user, kind="welcome")

    delivery = wait_until(
        lambda: (d := delivery_of(notification)).status == Delivery.Status.SENT and d,
        timeout=45,
    )
    assert delivery.attempts == 3
    assert len(inbox.messages) == 1


def test_broker_down_at_event_time_still_commits_and_dispatch_delivers(
    user, smtp_server, broker, start_worker
):
    _, inbox = smtp_server
    use_broker("redis://127.0.0.1:6399/0")  # nothing listens there

    with transaction.atomic():
        notification = services.notify(user=user, kind="welcome")

    assert delivery_of(notification).status == Delivery.Status.PENDING
    use_broker(BROKER_URL)
    start_worker()
    with override_settings(NOTIFICATION_REQUEUE_AFTER_SECONDS=0):
        assert services.dispatch_pending_deliveries().requeued == 1

    wait_until(lambda: inbox.messages)
    wait_until(lambda: delivery_of(notification).status == Delivery.Status.SENT)
    assert len(inbox.messages) == 1


def test_worker_killed_mid_send_is_redriven_and_delivers_exactly_once(
    user, smtp_server, start_worker
):
    _, inbox = smtp_server
    inbox.stall_first = 1
    worker = start_worker()

    with transaction.atomic():
        notification = services.notify(user=user, kind="welcome")
    wait_until(lambda: delivery_of(notification).status == Delivery.Status.SENDING)
    wait_until(lambda: inbox.rcpt_calls >= 1)
    worker.kill()

    assert delivery_of(notification).status == Delivery.Status.SENDING
    start_worker()
    with override_settings(NOTIFICATION_SENDING_TIMEOUT_SECONDS=0):
        summary = services.dispatch_pending_deliveries()
    assert summary.recovered == 1

    wait_until(lambda: delivery_of(notification).status == Delivery.Status.SENT)
    assert len(inbox.messages) == 1
    assert delivery_of(notification).attempts == 2


def test_worker_mails_the_reset_code_and_logs_it_nowhere(
    user, smtp_server, start_worker, tmp_path
):
    from accounts.services import send_password_reset
    from accounts.tests.helpers import token_in

    _, inbox = smtp_server
    start_worker()

    with transaction.atomic():
        send_password_reset(email=user.email)

    wait_until(lambda: inbox.messages)
    text = next(
        p for p in inbox.messages[0].walk() if p.get_content_type() == "text/plain"
    )
    body = text.get_payload(decode=True).decode().replace("\r\n", "\n")
    code = token_in(SimpleNamespace(body=body))
    notification = Notification.objects.get(recipient=user, kind="password_reset")
    wait_until(lambda: delivery_of(notification).status == Delivery.Status.SENT)
    assert code not in (tmp_path / "worker.log").read_text()
    assert code not in delivery_of(notification).body_text
