"""Push as a channel of the outbox, in process against the fake FCM and APNs."""

import json
import uuid
from datetime import time, timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from notifications import services
from notifications.kinds import KINDS
from notifications.models import Delivery, Preference
from push import services as push_services
from push.tests.factories import DeviceFactory
from push.tests.fakes import fcm_error

pytestmark = pytest.mark.django_db

ROUTINE_ID = str(uuid.uuid4())


def remind(user, **context):
    return services.notify(
        user=user,
        kind="routine_reminder",
        context={
            "routine_name": "Rosacea night treatment",
            "steps_count": 3,
            "routine_id": ROUTINE_ID,
            "local_date": "2026-11-30",
            "period": "pm",
            **context,
        },
        idempotency_key=f"routine-reminder:{ROUTINE_ID}:2026-11-30",
    )


def pushes(notification) -> list[Delivery]:
    return list(notification.deliveries.filter(channel="push").order_by("created_at"))


def test_three_devices_make_three_deliveries_and_one_failing_holds_no_other(
    user, push_configured, fake_fcm, fake_apns, django_capture_on_commit_callbacks
):
    failing = DeviceFactory(user=user)
    android = DeviceFactory(user=user)
    iphone = DeviceFactory(user=user, ios=True)
    fake_fcm.answer_next(failing.token, fcm_error(503, "UNAVAILABLE", retry_after="5"))

    with django_capture_on_commit_callbacks(execute=True):
        notification = remind(user)

    by_device = {d.device_id: d for d in pushes(notification)}
    assert set(by_device) == {failing.pk, android.pk, iphone.pk}
    assert by_device[android.pk].status == Delivery.Status.SENT
    assert by_device[iphone.pk].status == Delivery.Status.SENT
    held = by_device[failing.pk]
    assert held.status == Delivery.Status.PENDING
    assert "UNAVAILABLE" in held.last_error
    wait = (held.next_attempt_at - timezone.now()).total_seconds()
    assert 3 < wait <= 5  # the service's Retry-After
    assert len(fake_fcm.sent_to(android.token)) == 1
    assert len(fake_apns.sent_to(iphone.token)) == 1


def test_a_routine_reminder_push_says_the_period_and_nothing_private(
    user, push_configured, fake_fcm, django_capture_on_commit_callbacks
):
    device = DeviceFactory(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        notification = remind(user)

    [delivery] = pushes(notification)
    assert delivery.collapse_key == f"routine:{ROUTINE_ID}"
    ttl = delivery.expires_at - notification.created_at
    assert abs(ttl - timedelta(hours=3)) < timedelta(seconds=5)
    sent = fake_fcm.sent_to(device.token)[0].body
    assert sent["notification"]["title"] == "Time for your evening routine"
    assert "Rosacea" not in json.dumps(sent)


SENTINEL = "Zq-SECRET-HEALTH"


@pytest.mark.parametrize("kind", [k for k, spec in KINDS.items() if spec.push])
def test_no_push_kind_puts_the_context_on_the_lock_screen(kind):
    context = {
        key: f"{SENTINEL} {key}"
        for key in (
            "routine_name",
            "skin_type",
            "top_concern",
            "reason",
            "advice",
            "notes",
            "patient_name",
            "dermatologist_name",
            "consultation_type",
            "scores",
        )
    }
    title, body = services.push_text(KINDS[kind], context)

    assert SENTINEL not in title + body
    assert title
    assert body


def test_a_reminder_delivered_six_hours_late_is_dropped(
    user, push_configured, fake_fcm, monkeypatch, django_capture_on_commit_callbacks
):
    device = DeviceFactory(user=user)
    with django_capture_on_commit_callbacks(execute=False):
        notification = remind(user)
    [delivery] = pushes(notification)
    later = timezone.now() + timedelta(hours=6)
    monkeypatch.setattr(timezone, "now", lambda: later)

    outcome, _ = services.send_delivery(delivery_id=delivery.pk)

    assert outcome == services.SendOutcome.DROPPED
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DROPPED
    assert "time-to-live" in delivery.last_error
    assert fake_fcm.sent_to(device.token) == []


def test_same_event_twice_pushes_once_per_device(
    user, push_configured, fake_fcm, django_capture_on_commit_callbacks
):
    device = DeviceFactory(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        remind(user)
        remind(user)

    assert Delivery.objects.filter(channel="push").count() == 1
    assert len(fake_fcm.sent_to(device.token)) == 1


def test_switching_push_off_for_a_kind_makes_no_push(user, push_configured):
    DeviceFactory(user=user)
    services.update_preferences(
        user=user, channels={"routine_reminder": {"push": False}}
    )

    notification = remind(user)

    assert pushes(notification) == []
    assert notification.deliveries.filter(channel="email").exists()


def test_marketing_like_kinds_push_only_when_switched_on(user, push_configured):
    DeviceFactory(user=user)

    before = services.notify(user=user, kind="welcome", idempotency_key="w1")
    services.update_preferences(user=user, channels={"welcome": {"push": True}})
    after = services.notify(user=user, kind="welcome", idempotency_key="w2")

    assert pushes(before) == []
    assert len(pushes(after)) == 1


def test_quiet_hours_hold_pushes_but_not_security_ones(user, push_configured):
    DeviceFactory(user=user)
    now = timezone.localtime(timezone.now(), user.zoneinfo)
    Preference.objects.create(
        user=user,
        quiet_hours_start=(now - timedelta(hours=1)).time().replace(microsecond=0),
        quiet_hours_end=(now + timedelta(hours=2)).time().replace(microsecond=0),
    )

    reminder = remind(user)
    security = services.notify(
        user=user, kind="password_changed", context={"changed_at": timezone.now()}
    )

    [held] = pushes(reminder)
    assert held.not_before > timezone.now() + timedelta(hours=1)
    assert held.enqueued_at is None
    [urgent] = pushes(security)
    assert urgent.not_before is None


def test_a_push_queued_for_a_phone_that_changed_hands_is_not_shown_to_the_new_owner(
    user, push_configured, fake_fcm, django_capture_on_commit_callbacks
):
    device = DeviceFactory(user=user)
    with django_capture_on_commit_callbacks(execute=False):
        notification = remind(user)
    push_services.register_device(
        user=UserFactory(), platform="android", token=device.token
    )

    services.send_delivery(delivery_id=pushes(notification)[0].pk)

    [delivery] = pushes(notification)
    assert delivery.status == Delivery.Status.DROPPED
    assert "another account" in delivery.last_error
    assert fake_fcm.sent_to(device.token) == []


def test_a_signed_out_device_gets_no_reminder_but_the_security_warning(
    user, push_configured, fake_fcm, django_capture_on_commit_callbacks
):
    device = DeviceFactory(user=user)
    with django_capture_on_commit_callbacks(execute=False):
        reminder = remind(user)
        warning = services.notify(
            user=user, kind="password_changed", context={"changed_at": timezone.now()}
        )
    push_services.deactivate_devices(user=user, reason="every session ended")

    services.send_delivery(delivery_id=pushes(reminder)[0].pk)
    services.send_delivery(delivery_id=pushes(warning)[0].pk)

    assert pushes(reminder)[0].status == Delivery.Status.DROPPED
    assert pushes(warning)[0].status == Delivery.Status.SENT
    [received] = fake_fcm.sent_to(device.token)
    assert received.body["notification"]["title"] == "Your password was changed"


def test_in_production_an_unconfigured_service_makes_no_push(user, settings):
    settings.DEBUG = False
    settings.FCM_SERVICE_ACCOUNT_FILE = ""
    DeviceFactory(user=user)

    notification = remind(user)

    assert pushes(notification) == []


def test_dispatch_redrives_a_push_the_broker_never_got(
    user, push_configured, fake_fcm, settings, django_capture_on_commit_callbacks
):
    device = DeviceFactory(user=user)
    with django_capture_on_commit_callbacks(execute=False):  # the broker was down
        notification = remind(user)
    settings.NOTIFICATION_REQUEUE_AFTER_SECONDS = 0

    summary = services.dispatch_pending_deliveries()

    assert summary.requeued == 2  # the e-mail and the push
    assert pushes(notification)[0].status == Delivery.Status.SENT
    assert len(fake_fcm.sent_to(device.token)) == 1


def test_a_push_failing_every_attempt_ends_failed_and_keeps_the_device(
    user, push_configured, fake_fcm, settings, django_capture_on_commit_callbacks
):
    settings.PUSH_MAX_ATTEMPTS = 2
    device = DeviceFactory(user=user)
    fake_fcm.answer_next(
        device.token, fcm_error(500, "INTERNAL"), fcm_error(500, "INTERNAL")
    )
    with django_capture_on_commit_callbacks(execute=True):
        notification = remind(user)
    Delivery.objects.filter(channel="push").update(next_attempt_at=None)

    services.send_delivery(delivery_id=pushes(notification)[0].pk)

    [delivery] = pushes(notification)
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, 2)
    device.refresh_from_db()
    assert device.is_active


def test_quiet_hours_window_arithmetic_is_shared_with_email(user, push_configured):
    DeviceFactory(user=user)
    Preference.objects.create(
        user=user, quiet_hours_start=time(0, 0), quiet_hours_end=time(0, 0)
    )

    [delivery] = pushes(remind(user))

    assert delivery.not_before is None  # start == end: no quiet hours


def test_with_the_embedded_defaults_a_push_is_written_to_the_log(
    user, settings, caplog, django_capture_on_commit_callbacks
):
    settings.DEBUG = True  # `make run`: no FCM_* or APNS_* settings
    settings.FCM_SERVICE_ACCOUNT_FILE = ""
    DeviceFactory(user=user)

    with (
        caplog.at_level("INFO", logger="push.senders"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notification = remind(user)

    assert pushes(notification)[0].status == Delivery.Status.SENT
    assert "Time for your evening routine" in caplog.text


def test_reminders_of_one_routine_share_a_collapse_key_across_days():
    spec = KINDS["routine_reminder"]

    monday = services.push_collapse_key(
        spec, {"routine_id": ROUTINE_ID, "local_date": "1"}
    )
    tuesday = services.push_collapse_key(
        spec, {"routine_id": ROUTINE_ID, "local_date": "2"}
    )
    other = services.push_collapse_key(spec, {"routine_id": str(uuid.uuid4())})

    assert monday == tuesday == f"routine:{ROUTINE_ID}"
    assert other != monday
