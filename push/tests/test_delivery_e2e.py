"""End to end with real processes: a Celery worker on the Redis broker pushing through
the fake FCM (HTTP/1.1) and APNs (HTTP/2) servers on loopback."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import Delivery, Preference
from notifications.tests.conftest import (
    Worker,
    wait_until,
)
from push.models import Device
from push.tests.conftest import push_env
from push.tests.factories import DeviceFactory
from push.tests.fakes import apns_error, fcm_error
from skincare.testing import require_postgres

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def start_push_worker(
    smtp_server,
    broker,
    tmp_path,
    keys,
    fake_fcm,
    fake_apns,
    push_configured,  # notify() runs here and asks which platforms are open
):
    require_postgres()
    workers: list[Worker] = []
    env = push_env(keys, fake_fcm, fake_apns)

    def start() -> Worker:
        worker = Worker(smtp_server[0].port, tmp_path / "worker.log", env).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def remind(user):
    routine_id = uuid.uuid4()
    with transaction.atomic():
        return services.notify(
            user=user,
            kind="routine_reminder",
            context={
                "routine_name": "Eczema care",
                "steps_count": 4,
                "routine_id": str(routine_id),
                "local_date": "2026-11-30",
                "period": "pm",
            },
            idempotency_key=f"routine-reminder:{routine_id}:2026-11-30",
        )


def push_of(notification, device) -> Delivery:
    return Delivery.objects.get(notification=notification, device=device)


def settled(notification, *devices):
    """Every push of the notification in a final state (for wait_until)."""
    statuses = [push_of(notification, d).status for d in devices]
    final = {Delivery.Status.SENT, Delivery.Status.DROPPED, Delivery.Status.FAILED}
    return all(status in final for status in statuses)


def test_worker_pushes_a_routine_reminder_to_an_android_phone_and_an_iphone(
    user, start_push_worker, fake_fcm, fake_apns, tmp_path
):
    android = DeviceFactory(user=user)
    iphone = DeviceFactory(user=user, ios=True)
    start_push_worker()

    notification = remind(user)

    wait_until(lambda: settled(notification, android, iphone))
    assert push_of(notification, android).status == Delivery.Status.SENT
    assert push_of(notification, iphone).status == Delivery.Status.SENT
    [fcm] = fake_fcm.sent_to(android.token)
    [apns] = fake_apns.sent_to(iphone.token)
    assert fcm.body["notification"]["title"] == "Time for your evening routine"
    assert apns.http_version == "2"
    assert apns.body["aps"]["alert"]["title"] == "Time for your evening routine"
    collapse = push_of(notification, iphone).collapse_key
    assert fcm.body["android"]["collapse_key"] == collapse
    assert apns.headers["apns-collapse-id"] == collapse
    for received in (fcm.body, apns.body):
        assert "Eczema" not in str(received)
    assert apns.body["notification_id"] == str(notification.pk)
    assert fcm.body["data"] == {
        "notification_id": str(notification.pk),
        "kind": "routine_reminder",
    }
    android.refresh_from_db()
    assert android.last_success_at is not None
    log = (tmp_path / "worker.log").read_text()
    assert android.token not in log
    assert iphone.token not in log


def test_worker_retries_transient_failures_and_delivers_once(
    user, start_push_worker, fake_fcm, fake_apns
):
    android = DeviceFactory(user=user)
    iphone = DeviceFactory(user=user, ios=True)
    fake_fcm.answer_next(android.token, fcm_error(503, "UNAVAILABLE", retry_after="1"))
    fake_apns.answer_next(
        iphone.token, apns_error(429, "TooManyRequests", retry_after="1")
    )
    start_push_worker()

    notification = remind(user)

    wait_until(lambda: settled(notification, android, iphone), timeout=45)
    for device, fake in ((android, fake_fcm), (iphone, fake_apns)):
        delivery = push_of(notification, device)
        assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 2)
        assert len(fake.sent_to(device.token)) == 2  # refused once, then accepted


def test_worker_deactivates_unregistered_tokens_and_delivers_to_the_rest(
    user, start_push_worker, fake_fcm, fake_apns
):
    uninstalled = DeviceFactory(user=user)
    reset_iphone = DeviceFactory(user=user, ios=True)
    healthy = DeviceFactory(user=user)
    fake_fcm.answer_next(uninstalled.token, fcm_error(404, "NOT_FOUND", "UNREGISTERED"))
    fake_apns.answer_next(reset_iphone.token, apns_error(410, "Unregistered"))
    start_push_worker()

    notification = remind(user)

    wait_until(lambda: settled(notification, uninstalled, reset_iphone, healthy))
    assert push_of(notification, healthy).status == Delivery.Status.SENT
    for device, fake in ((uninstalled, fake_fcm), (reset_iphone, fake_apns)):
        assert push_of(notification, device).status == Delivery.Status.DROPPED
        device.refresh_from_db()
        assert not device.is_active
        assert len(fake.sent_to(device.token)) == 1  # never retried
    # The next notification does not even try them.
    later = remind(user)
    wait_until(lambda: settled(later, healthy))
    assert set(
        Delivery.objects.filter(notification=later, channel="push").values_list(
            "device", flat=True
        )
    ) == {healthy.pk}
    assert Device.objects.filter(user=user, is_active=True).count() == 1


def test_worker_holds_pushes_through_quiet_hours_but_not_security_ones(
    user, start_push_worker, fake_fcm, settings
):
    android = DeviceFactory(user=user)
    now = timezone.localtime(timezone.now(), user.zoneinfo)
    Preference.objects.create(
        user=user,
        quiet_hours_start=(now - timedelta(hours=1)).time().replace(microsecond=0),
        quiet_hours_end=(now + timedelta(hours=2)).time().replace(microsecond=0),
    )
    start_push_worker()

    reminder = remind(user)
    with transaction.atomic():
        warning = services.notify(
            user=user, kind="password_changed", context={"changed_at": timezone.now()}
        )

    wait_until(lambda: settled(warning, android))
    assert push_of(warning, android).status == Delivery.Status.SENT
    held = push_of(reminder, android)
    assert held.status == Delivery.Status.PENDING
    assert held.enqueued_at is None
    assert services.dispatch_pending_deliveries().requeued == 0  # still quiet
    assert [r.body["notification"]["title"] for r in fake_fcm.received] == [
        "Your password was changed"
    ]

    # The quiet hours end: the cron re-drive sends what they held.
    Delivery.objects.filter(notification=reminder).update(
        not_before=timezone.now() - timedelta(seconds=1)
    )
    assert services.dispatch_pending_deliveries().requeued == 2  # push and e-mail

    wait_until(lambda: settled(reminder, android))
    assert push_of(reminder, android).status == Delivery.Status.SENT
    assert fake_fcm.received[-1].body["notification"]["title"] == (
        "Time for your evening routine"
    )
