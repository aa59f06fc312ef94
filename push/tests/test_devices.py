"""Registering and removing devices, and the account events that stop pushes."""

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.lifecycle import build_user_export, erase_user
from accounts.refresh import FamilyRefreshToken, sign_out
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from push.models import Device
from push.tests.factories import DeviceFactory, apns_token, fcm_token

pytestmark = pytest.mark.django_db

DEVICES = "/api/v1/devices/"


def session_client(user) -> tuple[APIClient, str]:
    """A client signed in as a real session (a refresh token family); its refresh."""
    refresh = FamilyRefreshToken.for_user(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")
    return client, str(refresh)


def test_registering_a_token_creates_a_device_of_the_session(user):
    client, _ = session_client(user)
    token = apns_token()

    response = client.post(
        DEVICES,
        {"platform": "ios", "token": token, "app_version": "2.1.0", "locale": "fr-FR"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert "token" not in body
    device = Device.objects.get(pk=body["id"])
    assert (device.user, device.token, device.platform) == (user, token, "ios")
    assert (device.app_version, device.locale) == ("2.1.0", "fr-FR")
    assert device.session_family is not None


def test_registering_the_same_token_again_answers_200_with_the_same_device(
    auth_client, user
):
    token = fcm_token()
    first = auth_client.post(DEVICES, {"platform": "android", "token": token})
    again = auth_client.post(
        DEVICES, {"platform": "android", "token": token, "app_version": "1.5"}
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Device.objects.get().app_version == "1.5"


def test_a_user_may_have_several_devices(auth_client, user):
    for platform, token in (("ios", apns_token()), ("android", fcm_token())):
        auth_client.post(DEVICES, {"platform": platform, "token": token})

    assert Device.objects.filter(user=user, is_active=True).count() == 2


def test_a_known_token_moves_to_the_user_who_registers_it(auth_client, user):
    device = DeviceFactory(user=UserFactory())
    Device.objects.filter(pk=device.pk).update(
        is_active=False, deactivated_at="2026-01-01T00:00:00Z"
    )

    response = auth_client.post(DEVICES, {"platform": "android", "token": device.token})

    assert response.status_code == 200
    device.refresh_from_db()
    assert device.user == user
    assert device.is_active
    assert Device.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        ({"platform": "ios", "token": "not hex at all"}, "token", "invalid_push_token"),
        ({"platform": "android", "token": "short"}, "token", "invalid_push_token"),
        ({"platform": "web", "token": fcm_token()}, "platform", "invalid_choice"),
        ({"platform": "ios", "token": "a" * 600}, "token", "max_length"),
        ({"platform": "ios"}, "token", "required"),
    ],
)
def test_bad_registrations_answer_400_and_write_nothing(
    auth_client, payload, attr, code
):
    response = auth_client.post(DEVICES, payload, format="json")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["attr"], error["code"]) == (attr, code)
    assert not Device.objects.exists()


def test_registering_requires_authentication(api_client):
    response = api_client.post(DEVICES, {"platform": "ios", "token": apns_token()})

    assert response.status_code == 401
    assert not Device.objects.exists()


def test_deleting_a_device_forgets_it(auth_client, user):
    device = DeviceFactory(user=user)

    response = auth_client.delete(f"{DEVICES}{device.pk}/")

    assert response.status_code == 204
    assert not Device.objects.exists()


def test_another_users_device_answers_404_and_stays(auth_client, other_user):
    theirs = DeviceFactory(user=other_user)

    response = auth_client.delete(f"{DEVICES}{theirs.pk}/")

    assert response.status_code == 404
    assert Device.objects.filter(pk=theirs.pk).exists()


def test_signing_out_a_session_deactivates_only_its_devices(user):
    phone_client, phone_refresh = session_client(user)
    tablet_client, _ = session_client(user)
    phone = phone_client.post(DEVICES, {"platform": "ios", "token": apns_token()})
    tablet = tablet_client.post(DEVICES, {"platform": "android", "token": fcm_token()})

    sign_out(refresh=phone_refresh)

    assert not Device.objects.get(pk=phone.json()["id"]).is_active
    assert Device.objects.get(pk=phone.json()["id"]).deactivation_reason == "signed out"
    assert Device.objects.get(pk=tablet.json()["id"]).is_active


def test_signing_out_through_the_api_deactivates_the_device(user):
    client, refresh = session_client(user)
    device_id = client.post(DEVICES, {"platform": "ios", "token": apns_token()}).json()[
        "id"
    ]

    response = client.post("/api/v1/auth/logout/", {"refresh": refresh})

    assert response.status_code in (200, 204, 205)
    assert not Device.objects.get(pk=device_id).is_active


def test_changing_the_password_deactivates_every_device(user, fast_password_hashing):
    user.set_password(DEFAULT_PASSWORD)
    user.save(update_fields=["password"])
    devices = [DeviceFactory(user=user), DeviceFactory(user=user, ios=True)]

    account_services.change_password(
        user=user,
        current_password=DEFAULT_PASSWORD,
        new_password="another-Long-passphrase-42",
        client_ip="127.0.0.1",
    )

    for device in devices:
        device.refresh_from_db()
        assert not device.is_active


def test_deleting_the_account_deactivates_every_device(user, fast_password_hashing):
    user.set_password(DEFAULT_PASSWORD)
    user.save(update_fields=["password"])
    device = DeviceFactory(user=user)

    account_services.delete_account(
        user=user, password=DEFAULT_PASSWORD, client_ip="127.0.0.1"
    )

    device.refresh_from_db()
    assert not device.is_active


def test_export_lists_devices_without_their_tokens(user):
    device = DeviceFactory(user=user)

    rows = build_user_export(user=user)["data"]["push.Device"]

    assert [row["id"] for row in rows] == [str(device.pk)]
    assert "token" not in rows[0]


def test_erasure_deletes_the_devices():
    user = UserFactory(deleted=True)
    DeviceFactory(user=user)
    keep = DeviceFactory()

    erase_user(user=user)

    assert list(Device.objects.all()) == [keep]


def test_admin_lists_devices_with_last_success_and_failure(admin_client):
    device = DeviceFactory(last_failure="fcm: UNAVAILABLE")

    response = admin_client.get("/admin/push/device/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Last success at" in page
    assert "fcm: UNAVAILABLE" in page
    assert device.token not in page
    detail = admin_client.get(f"/admin/push/device/{device.pk}/change/")
    assert device.token not in detail.content.decode()
