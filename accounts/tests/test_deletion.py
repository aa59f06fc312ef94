from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import lifecycle
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import (
    ME_URL,
    REFRESH_URL,
    REGISTER_URL,
    bearer_get,
    error_attrs,
    sign_in,
)
from notifications.models import Notification, Preference
from notifications.tests.factories import NotificationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def delete_me(client, password=DEFAULT_PASSWORD):
    return client.delete(ME_URL, {"password": password})


def deleted_days_ago(days: int, **fields) -> User:
    return UserFactory(
        deleted=True, deleted_at=timezone.now() - timedelta(days=days), **fields
    )


# ------------------------------------------------------------------------------
# DELETE users/me/
# ------------------------------------------------------------------------------
def test_delete_needs_the_password(auth_client, user):
    response = delete_me(auth_client, "wrong-password")

    assert response.status_code == 400
    assert error_attrs(response) == {"password": "wrong_password"}
    user.refresh_from_db()
    assert user.is_active
    assert user.deleted_at is None


def test_delete_without_a_body_is_a_validation_error(auth_client):
    response = auth_client.delete(ME_URL)

    assert response.status_code == 400
    assert error_attrs(response) == {"password": "required"}


def test_delete_deactivates_the_account_at_once(auth_client, user):
    response = delete_me(auth_client)

    assert response.status_code == 204
    user.refresh_from_db()
    assert not user.is_active
    assert user.deleted_at is not None


def test_every_token_is_refused_from_the_moment_of_deletion(api_client, user):
    # given
    tokens = sign_in(api_client, user.email).json()
    other_device = RefreshToken.for_user(user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    # when
    assert delete_me(api_client).status_code == 204
    api_client.credentials()

    # then
    assert bearer_get(api_client, tokens["access"]).status_code == 401
    for refresh in (tokens["refresh"], str(other_device)):
        assert api_client.post(REFRESH_URL, {"refresh": refresh}).status_code == 401
    assert sign_in(api_client, user.email).status_code == 401


def test_delete_mails_a_confirmation_with_the_erasure_date(
    auth_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        delete_me(auth_client)

    [message] = mailoutbox
    assert message.to == [user.email]
    assert message.subject == "Your account has been deleted"
    purge_day = (timezone.now() + timedelta(days=30)).astimezone(user.zoneinfo)
    assert f"{purge_day.day} {purge_day:%B %Y}" in message.body


def test_a_deleted_address_cannot_register_again_before_erasure(api_client):
    deleted = UserFactory(deleted=True)

    response = api_client.post(
        REGISTER_URL, {"email": deleted.email, "password": "a-Decent-passphrase-42"}
    )

    assert error_attrs(response) == {"email": "email_taken"}


# ------------------------------------------------------------------------------
# purge_deleted_accounts
# ------------------------------------------------------------------------------
def test_purge_erases_accounts_past_the_retention_period():
    # given
    user = deleted_days_ago(
        31, fitzpatrick_type=3, concerns=["acne"], date_of_birth="1990-01-01"
    )
    NotificationFactory(recipient=user)
    Preference.objects.create(user=user, channels={"welcome": {"email": False}})
    RefreshToken.for_user(user)

    # when
    summary = lifecycle.purge_deleted_accounts()

    # then
    assert summary.purged == 1
    user.refresh_from_db()
    assert user.purged_at is not None
    assert user.email == f"erased-{user.pk.hex}@erased.invalid"
    assert (user.first_name, user.last_name) == ("", "")
    assert user.concerns == []
    assert user.fitzpatrick_type is None
    assert user.date_of_birth is None
    assert not user.has_usable_password()
    assert not user.is_active
    assert not Notification.objects.filter(recipient=user).exists()
    assert not Preference.objects.filter(user=user).exists()
    assert not OutstandingToken.objects.filter(user=user).exists()


def test_purge_keeps_accounts_inside_the_retention_period():
    recent = deleted_days_ago(29)
    live = UserFactory()

    summary = lifecycle.purge_deleted_accounts()

    assert summary.purged == 0
    for user in (recent, live):
        user.refresh_from_db()
        assert user.purged_at is None
        assert "@example.com" in user.email


def test_purge_is_idempotent():
    user = deleted_days_ago(40)
    lifecycle.purge_deleted_accounts()
    user.refresh_from_db()
    first = (user.email, user.purged_at, user.password)

    summary = lifecycle.purge_deleted_accounts()

    assert summary.purged == 0
    user.refresh_from_db()
    assert (user.email, user.purged_at, user.password) == first


def test_erased_address_can_register_again(api_client):
    user = deleted_days_ago(31)
    email = user.email
    lifecycle.purge_deleted_accounts()

    response = api_client.post(
        REGISTER_URL, {"email": email, "password": "a-Decent-passphrase-42"}
    )

    assert response.status_code == 201


def test_purge_command_dry_run_changes_nothing(capsys):
    user = deleted_days_ago(31)

    call_command("purge_deleted_accounts", "--dry-run")

    assert capsys.readouterr().out.strip() == (
        "purge_deleted_accounts: would purge 1, failed 0 (retention 30 days)"
    )
    user.refresh_from_db()
    assert user.purged_at is None


def test_purge_command_prints_one_summary_line(capsys):
    deleted_days_ago(31)
    deleted_days_ago(32)

    call_command("purge_deleted_accounts")

    assert capsys.readouterr().out.strip().splitlines() == [
        "purge_deleted_accounts: purged 2, failed 0 (retention 30 days)"
    ]


def test_retention_period_comes_from_settings(settings):
    settings.ACCOUNT_PURGE_AFTER_DAYS = 7
    user = deleted_days_ago(8)

    assert lifecycle.purge_deleted_accounts().purged == 1
    user.refresh_from_db()
    assert user.purged_at is not None
