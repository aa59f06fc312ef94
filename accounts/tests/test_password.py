from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import tokens
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import (
    CHANGE_URL,
    NEW_PASSWORD,
    REFRESH_URL,
    RESET_CONFIRM_URL,
    RESET_URL,
    bearer_get,
    error_attrs,
    sign_in,
    token_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def request_reset(client, email, **extra):
    return client.post(RESET_URL, {"email": email}, **extra)


def confirm_reset(client, token, new_password=NEW_PASSWORD):
    return client.post(
        RESET_CONFIRM_URL, {"token": token, "new_password": new_password}
    )


# ------------------------------------------------------------------------------
# Asking for a reset: no account enumeration
# ------------------------------------------------------------------------------
def test_reset_answers_the_same_for_known_and_unknown_addresses(api_client, user):
    known = request_reset(api_client, user.email)
    unknown = request_reset(api_client, "nobody@example.com")

    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert sorted(known.headers) == sorted(unknown.headers)


def test_reset_mails_a_code_to_a_known_address(
    api_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request_reset(api_client, user.email.upper())

    [message] = mailoutbox
    assert message.to == [user.email]
    assert message.subject == "Reset your password"


def test_reset_mails_nothing_for_an_unknown_address(
    api_client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = request_reset(api_client, "nobody@example.com")

    assert response.status_code == 202
    assert mailoutbox == []


def test_reset_mails_nothing_for_a_deleted_account(
    api_client, mailoutbox, django_capture_on_commit_callbacks
):
    deleted = UserFactory(deleted=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = request_reset(api_client, deleted.email)

    assert response.status_code == 202
    assert mailoutbox == []


def test_reset_is_throttled_per_address_across_ips(api_client, user):
    responses = [
        request_reset(api_client, user.email, REMOTE_ADDR=f"10.0.0.{n}")
        for n in range(4)
    ]

    assert [r.status_code for r in responses] == [202, 202, 202, 429]
    assert int(responses[-1]["Retry-After"]) > 0


def test_reset_throttle_counts_unknown_addresses_too(api_client):
    responses = [
        request_reset(api_client, "nobody@example.com", REMOTE_ADDR=f"10.0.0.{n}")
        for n in range(4)
    ]

    assert [r.status_code for r in responses] == [202, 202, 202, 429]


def test_reset_is_throttled_per_ip(api_client):
    statuses = [
        request_reset(api_client, f"person{n}@example.com").status_code
        for n in range(11)
    ]

    assert statuses == [202] * 10 + [429]


# ------------------------------------------------------------------------------
# Confirming a reset
# ------------------------------------------------------------------------------
def test_reset_code_from_the_mail_sets_the_new_password(
    api_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        request_reset(api_client, user.email)

    # when
    response = confirm_reset(api_client, token_in(mailoutbox[0]))

    # then
    assert response.status_code == 204
    assert sign_in(api_client, user.email).status_code == 401
    assert sign_in(api_client, user.email, NEW_PASSWORD).status_code == 200


def test_reset_revokes_every_session(api_client, user):
    # given
    refresh = RefreshToken.for_user(user)
    access = str(refresh.access_token)

    # when
    confirm_reset(api_client, tokens.make_token(tokens.PASSWORD_RESET, user))

    # then
    assert bearer_get(api_client, access).status_code == 401
    assert api_client.post(REFRESH_URL, {"refresh": str(refresh)}).status_code == 401


def test_reset_code_works_once(api_client, user):
    token = tokens.make_token(tokens.PASSWORD_RESET, user)
    assert confirm_reset(api_client, token).status_code == 204

    reused = confirm_reset(api_client, token, "yet-Another-pass-88")

    assert reused.status_code == 400
    assert error_attrs(reused) == {"token": "token_used"}
    assert sign_in(api_client, user.email, NEW_PASSWORD).status_code == 200


def test_expired_reset_code_is_refused(api_client, user):
    token = tokens.make_token(
        tokens.PASSWORD_RESET, user, issued_at=timezone.now() - timedelta(hours=3)
    )

    response = confirm_reset(api_client, token)

    assert error_attrs(response) == {"token": "token_expired"}
    assert sign_in(api_client, user.email).status_code == 200


def test_reset_code_of_a_deleted_account_is_refused(api_client):
    user = UserFactory()
    token = tokens.make_token(tokens.PASSWORD_RESET, user)
    user.is_active = False
    user.deleted_at = timezone.now()
    user.save(update_fields=["is_active", "deleted_at"])

    response = confirm_reset(api_client, token)

    assert error_attrs(response) == {"token": "invalid_token"}


def test_a_verification_code_does_not_reset_a_password(api_client, user):
    token = tokens.make_token(tokens.VERIFY_EMAIL, user, email=user.email)

    response = confirm_reset(api_client, token)

    assert error_attrs(response) == {"token": "invalid_token"}


def test_reset_applies_the_password_rules(api_client, user):
    token = tokens.make_token(tokens.PASSWORD_RESET, user)

    response = confirm_reset(api_client, token, "password")

    assert response.status_code == 400
    assert set(error_attrs(response)) == {"new_password"}
    assert sign_in(api_client, user.email).status_code == 200


def test_reset_lifts_a_sign_in_lock(api_client, user):
    user.failed_sign_ins = 4
    user.locked_until = timezone.now() + timedelta(minutes=10)
    user.save(update_fields=["failed_sign_ins", "locked_until"])

    confirm_reset(api_client, tokens.make_token(tokens.PASSWORD_RESET, user))

    user.refresh_from_db()
    assert user.locked_until is None
    assert user.failed_sign_ins == 0
    assert sign_in(api_client, user.email, NEW_PASSWORD).status_code == 200


# ------------------------------------------------------------------------------
# Changing the password
# ------------------------------------------------------------------------------
def change(client, current=DEFAULT_PASSWORD, new=NEW_PASSWORD):
    return client.post(CHANGE_URL, {"current_password": current, "new_password": new})


def test_change_needs_the_current_password(auth_client, user):
    response = change(auth_client, current="wrong-password")

    assert response.status_code == 400
    assert error_attrs(response) == {"current_password": "wrong_password"}
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_change_applies_the_password_rules(auth_client):
    response = change(auth_client, new="12345678")

    assert set(error_attrs(response)) == {"new_password"}


def test_change_returns_a_working_pair_and_signs_out_other_sessions(api_client, user):
    # given
    other_device = sign_in(api_client, user.email).json()
    this_device = sign_in(api_client, user.email).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {this_device['access']}")

    # when
    response = change(api_client)
    api_client.credentials()

    # then
    assert response.status_code == 200
    fresh = response.json()
    assert bearer_get(api_client, fresh["access"]).status_code == 200
    assert (
        api_client.post(REFRESH_URL, {"refresh": fresh["refresh"]}).status_code == 200
    )
    assert bearer_get(api_client, other_device["access"]).status_code == 401
    for old in (other_device, this_device):
        refreshed = api_client.post(REFRESH_URL, {"refresh": old["refresh"]})
        assert refreshed.status_code == 401


def test_change_blacklists_every_earlier_refresh_token(auth_client, user):
    RefreshToken.for_user(user)
    RefreshToken.for_user(user)

    fresh = change(auth_client).json()["refresh"]

    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    assert [t.jti for t in live] == [RefreshToken(fresh)["jti"]]


def test_change_mails_a_notice(
    auth_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        change(auth_client)

    assert [m.subject for m in mailoutbox] == ["Your password was changed"]


def test_change_revokes_refresh_tokens_obtained_by_rotation(api_client, user):
    first = sign_in(api_client, user.email).json()["refresh"]
    rotated = api_client.post(REFRESH_URL, {"refresh": first}).json()["refresh"]
    api_client.force_authenticate(user)

    change(api_client)
    api_client.force_authenticate(None)

    assert api_client.post(REFRESH_URL, {"refresh": rotated}).status_code == 401


# ------------------------------------------------------------------------------
# One place decides: the services (the API's serializers check shape only)
# ------------------------------------------------------------------------------
def test_reset_confirm_serializer_checks_shape_only_the_service_checks_the_token():
    from accounts.serializers import PasswordResetConfirmSerializer

    serializer = PasswordResetConfirmSerializer(
        data={"token": "not-a-real-token", "new_password": NEW_PASSWORD}
    )

    assert serializer.is_valid(), serializer.errors


def test_reset_password_service_refuses_a_weak_password_and_keeps_the_old_one(user):
    from accounts import errors, services

    token = tokens.make_token(tokens.PASSWORD_RESET, user)

    with pytest.raises(errors.PasswordRejected) as refused:
        services.reset_password(token=token, new_password="password")

    assert refused.value.field == "new_password"
    assert refused.value.messages
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_change_password_service_refuses_a_weak_password_and_keeps_the_old_one(user):
    from accounts import errors, services

    with pytest.raises(errors.PasswordRejected):
        services.change_password(
            user=user,
            current_password=DEFAULT_PASSWORD,
            new_password="12345678",
            client_ip="203.0.113.9",
        )

    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_a_weak_new_password_lists_every_rule_it_breaks(auth_client):
    response = change(auth_client, new="1234")

    errors = [e for e in response.json()["errors"] if e["attr"] == "new_password"]
    assert len(errors) >= 2  # too short, too common, entirely numeric
    assert {e["code"] for e in errors} == {"invalid"}
