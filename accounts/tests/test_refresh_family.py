"""Refresh tokens are single-use; presenting a rotated one ends its whole family."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, UntypedToken

from accounts.auth import JWTAuthentication
from accounts.models import RefreshTokenRecord
from accounts.services import erase_user_data
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import (
    CHANGE_URL,
    NEW_PASSWORD,
    REFRESH_URL,
    bearer_get,
    error_code,
    sign_in,
)
from notifications.models import Notification

LOGOUT_URL = "/api/v1/auth/logout/"
THREADS = 8

pytestmark = pytest.mark.usefixtures("fast_password_hashing", "_roomy_ip_limit")


@pytest.fixture
def _roomy_ip_limit(rates):
    """These tests are about token families, not the per-IP limit they all share."""
    rates(auth="1000/min")


def refresh(client, token):
    return client.post(REFRESH_URL, {"refresh": token})


def claims(token: str) -> dict:
    return UntypedToken(token).payload


# ------------------------------------------------------------------------------
# One use: concurrent refreshes of one token
# ------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_give_exactly_one_new_pair(
    requires_postgres,
):
    # given: a signed-in device
    user = UserFactory()
    token = sign_in(APIClient(), user.email).json()["refresh"]
    barrier = threading.Barrier(THREADS)
    responses = []
    lock = threading.Lock()

    def refresh_once():
        try:
            client = APIClient()
            barrier.wait(timeout=10)
            response = refresh(client, token)
            with lock:
                responses.append(response)
        finally:
            connections.close_all()

    # when: eight requests present the same refresh token at once
    threads = [threading.Thread(target=refresh_once) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then: one wins; the others are reuse of a rotated token, which ends the family
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [401] * (THREADS - 1)
    assert {error_code(r) for r in responses if r.status_code == 401} == {
        "token_reused"
    }
    [winner] = [r.json() for r in responses if r.status_code == 200]
    assert refresh(APIClient(), winner["refresh"]).status_code == 401
    assert bearer_get(APIClient(), winner["access"]).status_code == 401
    assert Notification.objects.filter(recipient=user, kind="token_reused").count() == 1


# ------------------------------------------------------------------------------
# Reuse is theft: the family ends, other sessions do not
# ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_reused_refresh_token_revokes_the_whole_family(api_client, user):
    # given: two devices; the phone has rotated its refresh token once
    phone = sign_in(api_client, user.email).json()
    laptop = sign_in(api_client, user.email).json()
    successor = refresh(api_client, phone["refresh"]).json()

    # when: the phone's first, already rotated, refresh token shows up again
    reused = refresh(api_client, phone["refresh"])

    # then: it fails, and the successor refresh and access tokens stop at once
    assert reused.status_code == 401
    assert error_code(reused) == "token_reused"
    assert refresh(api_client, successor["refresh"]).status_code == 401
    assert bearer_get(api_client, successor["access"]).status_code == 401
    assert bearer_get(api_client, phone["access"]).status_code == 401
    # and the laptop, another family of the same user, keeps working
    assert bearer_get(api_client, laptop["access"]).status_code == 200
    assert refresh(api_client, laptop["refresh"]).status_code == 200


@pytest.mark.django_db
def test_reuse_sends_a_security_email(
    api_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    first = sign_in(api_client, user.email).json()["refresh"]
    successor = refresh(api_client, first).json()

    with django_capture_on_commit_callbacks(execute=True):
        refresh(api_client, first)
        refresh(api_client, first)

    # one e-mail per ended family, however often the stolen token is replayed
    [message] = mailoutbox
    assert message.to == [user.email]
    assert message.subject == "A sign-in session of your account was ended"
    bodies = [message.body, *(body for body, _type in message.alternatives)]
    notification = Notification.objects.get(recipient=user, kind="token_reused")
    stored = [notification.title, notification.body, str(notification.data)]
    secrets = [first, successor["refresh"], successor["access"]]
    secrets += [claims(first)["jti"], claims(first)["fam"]]
    for text in bodies + stored:
        assert not any(secret in text for secret in secrets)


@pytest.mark.django_db
def test_refresh_token_ended_by_logout_is_invalid_not_a_theft(
    api_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    tokens = sign_in(api_client, user.email).json()
    assert (
        api_client.post(LOGOUT_URL, {"refresh": tokens["refresh"]}).status_code == 204
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = refresh(api_client, tokens["refresh"])

    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"
    assert mailoutbox == []
    assert not Notification.objects.filter(kind="token_reused").exists()


@pytest.mark.django_db
def test_logout_with_a_rotated_token_is_refused_and_ends_nothing(api_client, user):
    first = sign_in(api_client, user.email).json()["refresh"]
    successor = refresh(api_client, first).json()

    response = api_client.post(LOGOUT_URL, {"refresh": first})

    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"
    assert refresh(api_client, successor["refresh"]).status_code == 200


@pytest.mark.django_db
def test_logout_ends_the_refresh_token_of_this_session_only(api_client, user):
    phone = sign_in(api_client, user.email).json()
    laptop = sign_in(api_client, user.email).json()

    assert api_client.post(LOGOUT_URL, {"refresh": phone["refresh"]}).status_code == 204
    assert refresh(api_client, phone["refresh"]).status_code == 401
    assert refresh(api_client, laptop["refresh"]).status_code == 200


# ------------------------------------------------------------------------------
# The family claim
# ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_sign_in_starts_a_family_that_rotation_keeps(api_client, user):
    phone = sign_in(api_client, user.email).json()
    laptop = sign_in(api_client, user.email).json()
    rotated = refresh(api_client, phone["refresh"]).json()

    family = claims(phone["refresh"])["fam"]
    assert claims(phone["access"])["fam"] == family
    assert claims(rotated["refresh"])["fam"] == family
    assert claims(rotated["access"])["fam"] == family
    assert claims(rotated["refresh"])["jti"] != claims(phone["refresh"])["jti"]
    assert claims(laptop["refresh"])["fam"] != family


@pytest.mark.django_db
def test_password_change_starts_a_new_family(api_client, user):
    old = sign_in(api_client, user.email).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {old['access']}")
    fresh = api_client.post(
        CHANGE_URL,
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )
    api_client.credentials()

    assert fresh.status_code == 200, fresh.content
    assert claims(fresh.json()["refresh"])["fam"] != claims(old["refresh"])["fam"]
    assert refresh(api_client, fresh.json()["refresh"]).status_code == 200


@pytest.mark.django_db
def test_legacy_refresh_token_without_family_claim_rotates_and_its_reuse_is_caught(
    api_client, user
):
    # given: a refresh token issued before families existed
    legacy = str(RefreshToken.for_user(user))
    assert "fam" not in claims(legacy)

    # when: it is rotated, its jti becomes the family of its successors
    rotated = refresh(api_client, legacy)
    assert rotated.status_code == 200
    successor = rotated.json()
    assert claims(successor["refresh"])["fam"] == claims(legacy)["jti"]

    # then: presenting it again is reuse, and ends the successor too
    reused = refresh(api_client, legacy)
    assert reused.status_code == 401
    assert error_code(reused) == "token_reused"
    assert refresh(api_client, successor["refresh"]).status_code == 401
    assert bearer_get(api_client, successor["access"]).status_code == 401


@pytest.mark.django_db
def test_legacy_refresh_token_blacklisted_before_the_change_is_invalid(
    api_client, user
):
    legacy = RefreshToken.for_user(user)
    legacy.blacklist()

    response = refresh(api_client, str(legacy))

    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"


@pytest.mark.django_db
def test_access_token_without_family_claim_still_works(api_client, user):
    """Access tokens issued before the change (10 minutes at most) stay valid."""
    access = str(AccessToken.for_user(user))

    assert bearer_get(api_client, access).status_code == 200


@pytest.mark.django_db
def test_access_token_of_an_unknown_family_is_refused(api_client, user):
    """Fail closed: a family the server has no record of is not a live session."""
    access = AccessToken.for_user(user)
    access["fam"] = "0" * 32

    assert bearer_get(api_client, str(access)).status_code == 401


@pytest.mark.django_db
def test_access_token_family_check_shares_the_user_query(
    api_client, user, django_assert_num_queries
):
    access = sign_in(api_client, user.email).json()["access"]
    validated = AccessToken(access)

    with django_assert_num_queries(1):
        assert JWTAuthentication().get_user(validated) == user


# ------------------------------------------------------------------------------
# Cleanup: expiry and erasure
# ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_flushexpiredtokens_deletes_expired_tokens_of_a_family(api_client, user):
    tokens = sign_in(api_client, user.email).json()
    refresh(api_client, tokens["refresh"])
    OutstandingToken.objects.filter(user=user).update(
        expires_at=timezone.now() - timedelta(days=1)
    )

    call_command("flushexpiredtokens")

    assert not OutstandingToken.objects.filter(user=user).exists()
    assert not RefreshTokenRecord.objects.exists()


@pytest.mark.django_db
def test_erasure_deletes_the_refresh_token_records(api_client, user):
    tokens = sign_in(api_client, user.email).json()
    refresh(api_client, tokens["refresh"])

    erase_user_data(user=user)

    assert not RefreshTokenRecord.objects.exists()
