"""The senders against the fake FCM and APNs: what each answer does to a device."""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from push import senders
from push import services as push_services
from push.tests.conftest import KEY_ID, TOPIC
from push.tests.factories import DeviceFactory
from push.tests.fakes import apns_error, fcm_error

pytestmark = pytest.mark.django_db


def message(**changes) -> senders.PushMessage:
    fields = {
        "title": "Time for your evening routine",
        "body": "Open the app to check off today's steps.",
        "data": {"notification_id": "n-1", "kind": "routine_reminder"},
        "collapse_key": "routine:r-1",
        "expires_at": datetime.now(UTC) + timedelta(hours=3),
        "message_id": "8a4f36c4-5d0f-4b7e-9d43-2b1f5f0a6c11",
    }
    return senders.PushMessage(**(fields | changes))


def test_fcm_gets_an_oauth_token_from_the_key_and_reuses_it(push_configured, fake_fcm):
    device = DeviceFactory()

    outcomes = [push_services.send(device=device, message=message()) for _ in range(3)]

    assert [o.status for o in outcomes] == ["sent"] * 3
    assert fake_fcm.token_requests == 1
    sent = fake_fcm.sent_to(device.token)[0].body
    assert sent["notification"] == {
        "title": "Time for your evening routine",
        "body": "Open the app to check off today's steps.",
    }
    assert sent["data"] == {"notification_id": "n-1", "kind": "routine_reminder"}
    assert sent["android"]["collapse_key"] == "routine:r-1"
    assert sent["android"]["notification"]["tag"] == "routine:r-1"
    assert 10790 <= int(sent["android"]["ttl"].rstrip("s")) <= 10800
    device.refresh_from_db()
    assert device.last_success_at is not None


def test_fcm_access_token_refused_later_is_fetched_again(push_configured, fake_fcm):
    device = DeviceFactory()
    push_services.send(device=device, message=message())
    fake_fcm.access_tokens.clear()  # Google revoked it before its expiry

    refused = push_services.send(device=device, message=message())
    retried = push_services.send(device=device, message=message())

    assert refused.status == "retry"
    assert retried.status == "sent"
    assert fake_fcm.token_requests == 2


def test_apns_is_sent_over_http2_with_an_es256_provider_token(
    push_configured, fake_apns
):
    device = DeviceFactory(ios=True)

    outcome = push_services.send(device=device, message=message())

    assert outcome.status == "sent"
    [received] = fake_apns.sent_to(device.token)
    assert received.http_version == "2"
    assert received.headers["apns-topic"] == TOPIC
    assert received.headers["apns-push-type"] == "alert"
    assert received.headers["apns-collapse-id"] == "routine:r-1"
    assert received.headers["apns-id"] == "8a4f36c4-5d0f-4b7e-9d43-2b1f5f0a6c11"
    expiration = int(received.headers["apns-expiration"])
    assert abs(expiration - (datetime.now(UTC) + timedelta(hours=3)).timestamp()) < 10
    assert received.body == {
        "aps": {
            "alert": {
                "title": "Time for your evening routine",
                "body": "Open the app to check off today's steps.",
            },
            "sound": "default",
        },
        "notification_id": "n-1",
        "kind": "routine_reminder",
    }


@pytest.mark.parametrize(
    ("answer", "retry_after"),
    [
        (fcm_error(503, "UNAVAILABLE", "UNAVAILABLE", retry_after="7"), 7),
        (fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", retry_after="30"), 30),
        (fcm_error(500, "INTERNAL", "INTERNAL"), None),
    ],
)
def test_fcm_transient_errors_ask_for_a_retry_with_retry_after(
    push_configured, fake_fcm, answer, retry_after
):
    device = DeviceFactory()
    fake_fcm.answer_next(device.token, answer)

    outcome = push_services.send(device=device, message=message())

    assert (outcome.status, outcome.retry_after) == ("retry", retry_after)
    device.refresh_from_db()
    assert device.is_active
    assert device.last_failure_at is not None


@pytest.mark.parametrize(
    ("answer", "retry_after"),
    [
        (apns_error(429, "TooManyRequests", retry_after="12"), 12),
        (apns_error(503, "ServiceUnavailable"), None),
        (apns_error(500, "InternalServerError"), None),
    ],
)
def test_apns_transient_errors_ask_for_a_retry(
    push_configured, fake_apns, answer, retry_after
):
    device = DeviceFactory(ios=True)
    fake_apns.answer_next(device.token, answer)

    outcome = push_services.send(device=device, message=message())

    assert (outcome.status, outcome.retry_after) == ("retry", retry_after)


def test_fcm_unregistered_deactivates_the_device(push_configured, fake_fcm):
    device = DeviceFactory()
    fake_fcm.answer_next(device.token, fcm_error(404, "NOT_FOUND", "UNREGISTERED"))

    outcome = push_services.send(device=device, message=message())

    assert outcome.status == "gone"
    device.refresh_from_db()
    assert not device.is_active
    assert device.deactivation_reason == "fcm: UNREGISTERED"


@pytest.mark.parametrize(
    ("status", "reason"), [(410, "Unregistered"), (400, "BadDeviceToken")]
)
def test_apns_dead_tokens_deactivate_the_device(
    push_configured, fake_apns, status, reason
):
    device = DeviceFactory(ios=True)
    fake_apns.answer_next(device.token, apns_error(status, reason))

    outcome = push_services.send(device=device, message=message())

    assert outcome.status == "gone"
    device.refresh_from_db()
    assert not device.is_active
    assert device.deactivation_reason == f"apns: {reason}"


def test_a_malformed_message_fails_without_retry_or_deactivation(
    push_configured, fake_fcm
):
    device = DeviceFactory()
    fake_fcm.answer_next(
        device.token, fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT")
    )

    outcome = push_services.send(device=device, message=message())

    assert outcome.status == "failed"
    device.refresh_from_db()
    assert device.is_active


def test_fcm_key_the_token_endpoint_refuses_is_a_logged_configuration_error(
    push_configured, fake_fcm, keys, caplog
):
    push_configured.FCM_SERVICE_ACCOUNT_FILE = str(keys.fcm_untrusted_file)
    device = DeviceFactory()

    with caplog.at_level(logging.ERROR, logger="push.services"):
        outcome = push_services.send(device=device, message=message())

    assert outcome.status == "retry"  # held for the fix, not dropped
    assert "credential_refused" in outcome.error
    assert fake_fcm.sent_to(device.token) == []
    assert "push channel FCM is misconfigured" in caplog.text
    assert "invalid_grant" in caplog.text


def test_apns_key_it_refuses_is_a_logged_configuration_error(
    push_configured, fake_apns, keys, caplog
):
    push_configured.APNS_KEY_FILE = str(keys.apns_untrusted_file)
    device = DeviceFactory(ios=True)

    with caplog.at_level(logging.ERROR, logger="push.services"):
        outcome = push_services.send(device=device, message=message())

    assert outcome.status == "retry"
    assert "InvalidProviderToken" in outcome.error
    assert f"APNs refused key {KEY_ID}" in caplog.text
    device.refresh_from_db()
    assert device.is_active


def test_a_key_file_that_is_no_key_is_a_configuration_error(
    push_configured, tmp_path, caplog
):
    broken = tmp_path / "key.json"
    broken.write_text(json.dumps({"client_email": "x@y", "private_key": "nope"}))
    push_configured.FCM_SERVICE_ACCOUNT_FILE = str(broken)

    with caplog.at_level(logging.ERROR, logger="push.services"):
        outcome = push_services.send(device=DeviceFactory(), message=message())

    assert outcome.status == "retry"
    assert "credential_invalid" in outcome.error
    assert "misconfigured" in caplog.text


def test_unconfigured_in_development_the_push_is_written_to_the_log(settings, caplog):
    settings.DEBUG = True
    settings.FCM_SERVICE_ACCOUNT_FILE = ""
    device = DeviceFactory()

    with caplog.at_level(logging.INFO, logger="push.senders"):
        outcome = push_services.send(device=device, message=message())

    assert outcome.status == "sent"
    assert "push (log only, FCM not configured)" in caplog.text
    assert "Time for your evening routine" in caplog.text
    assert device.token not in caplog.text


def test_retry_after_as_an_http_date():
    later = datetime.now(UTC) + timedelta(seconds=120)

    seconds = senders.retry_after_seconds(later.strftime("%a, %d %b %Y %H:%M:%S GMT"))

    assert 115 <= seconds <= 120
    assert senders.retry_after_seconds("soon") is None


def test_a_long_collapse_key_is_hashed_to_what_apns_accepts():
    sender = senders.ApnsSender(
        key_pem=b"",
        fingerprint="f",
        key_id="k",
        team_id="t",
        topic="x",
        host="http://h",
        timeout=1,
    )
    sender.provider_token = lambda: "jwt"

    headers = sender.headers(message(collapse_key="c" * 100))

    assert len(headers["apns-collapse-id"].encode()) == 64
