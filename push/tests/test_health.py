"""Readiness reports a push channel that is configured but failing."""

import pytest

from push import services as push_services
from push.tests.factories import DeviceFactory
from push.tests.fakes import apns_error
from push.tests.test_senders import message

pytestmark = pytest.mark.django_db


def ready(client) -> dict:
    return client.get("/health/ready/").json()


def test_push_is_ready_when_both_services_accept_the_credentials(
    client, push_configured, fake_fcm, fake_apns
):
    body = ready(client)

    assert body["checks"]["push"] == "ok"
    assert "push" not in body.get("degraded", [])
    assert fake_fcm.token_requests == 1


def test_push_is_ready_when_not_configured(client, settings):
    settings.FCM_SERVICE_ACCOUNT_FILE = ""
    settings.APNS_KEY_FILE = ""

    assert ready(client)["checks"]["push"] == "ok"


def test_a_refused_fcm_key_degrades_readiness_without_taking_the_api_down(
    client, push_configured, keys, fake_fcm, caplog
):
    push_configured.FCM_SERVICE_ACCOUNT_FILE = str(keys.fcm_untrusted_file)

    response = client.get("/health/ready/")

    body = response.json()
    assert body["checks"]["push"] == "down"
    assert body["degraded"] == ["push"]
    assert "push" not in body["down"]
    assert "fcm credential_refused" in body["reasons"]["push"]
    assert str(keys.fcm_untrusted_file) not in body["reasons"]["push"]
    assert "invalid_grant" in caplog.text  # the details are in the log
    if not body["down"]:
        assert (response.status_code, body["status"]) == (200, "degraded")


def test_an_apns_refusal_while_sending_reports_until_a_send_succeeds(
    client, push_configured, keys, fake_apns
):
    device = DeviceFactory(ios=True)
    push_configured.APNS_KEY_FILE = str(keys.apns_untrusted_file)
    push_services.send(device=device, message=message())
    # The key signs fine locally: only APNs' refusal tells.
    assert "apns InvalidProviderToken while sending" in ready(client)["reasons"]["push"]

    push_configured.APNS_KEY_FILE = str(keys.apns_file)  # the operator fixes it
    assert ready(client)["checks"]["push"] == "ok"


def test_a_refusal_clears_once_a_send_succeeds(
    client, push_configured, keys, fake_apns
):
    device = DeviceFactory(ios=True)
    fake_apns.answer_next(device.token, apns_error(403, "InvalidProviderToken"))
    push_services.send(device=device, message=message())
    assert ready(client)["checks"]["push"] == "down"

    push_services.send(device=device, message=message())

    assert ready(client)["checks"]["push"] == "ok"
