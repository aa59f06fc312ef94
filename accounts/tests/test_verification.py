from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from accounts import tokens
from accounts.models import User
from accounts.permissions import IsEmailVerified
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import (
    EMAIL_URL,
    ME_URL,
    REGISTER_URL,
    RESEND_URL,
    VERIFY_URL,
    error_attrs,
    error_code,
    sign_in,
    token_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def verify(client, token):
    return client.post(VERIFY_URL, {"token": token})


def test_registration_mails_a_code_that_verifies_the_address(
    api_client, mailoutbox, django_capture_on_commit_callbacks
):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(
            REGISTER_URL,
            {"email": "ana@example.com", "password": "a-Decent-passphrase-42"},
        )
    [message] = mailoutbox
    assert message.to == ["ana@example.com"]

    # when
    response = verify(api_client, token_in(message))

    # then
    assert response.status_code == 200
    assert response.json() == {"email": "ana@example.com", "email_verified": True}
    assert User.objects.get(email="ana@example.com").email_verified_at is not None


def test_first_verification_sends_the_welcome_mail_once(
    api_client, unverified_user, mailoutbox, django_capture_on_commit_callbacks
):
    token = tokens.make_token(
        tokens.VERIFY_EMAIL, unverified_user, email=unverified_user.email
    )

    with django_capture_on_commit_callbacks(execute=True):
        verify(api_client, token)

    assert [m.subject for m in mailoutbox] == ["Welcome to Skincare"]


def test_unverified_account_can_sign_in(api_client, unverified_user):
    assert sign_in(api_client, unverified_user.email).status_code == 200


def test_verification_token_works_once(api_client, unverified_user):
    token = tokens.make_token(
        tokens.VERIFY_EMAIL, unverified_user, email=unverified_user.email
    )
    assert verify(api_client, token).status_code == 200

    reused = verify(api_client, token)

    assert reused.status_code == 400
    assert error_attrs(reused) == {"token": "token_used"}


def test_expired_verification_token_is_refused(api_client, unverified_user):
    token = tokens.make_token(
        tokens.VERIFY_EMAIL,
        unverified_user,
        email=unverified_user.email,
        issued_at=timezone.now() - timedelta(hours=49),
    )

    response = verify(api_client, token)

    assert response.status_code == 400
    assert error_attrs(response) == {"token": "token_expired"}
    unverified_user.refresh_from_db()
    assert unverified_user.email_verified_at is None


@pytest.mark.parametrize("mangle", ["flip_signature", "flip_payload", "garbage"])
def test_tampered_verification_token_is_refused(api_client, unverified_user, mangle):
    token = tokens.make_token(
        tokens.VERIFY_EMAIL, unverified_user, email=unverified_user.email
    )
    tampered = {
        "flip_signature": token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB"),
        "flip_payload": ("B" if token[0] != "B" else "C") + token[1:],
        "garbage": "not-a-token",
    }[mangle]

    response = verify(api_client, tampered)

    assert response.status_code == 400
    assert error_attrs(response) == {"token": "invalid_token"}


def test_a_reset_token_does_not_verify_an_address(api_client, unverified_user):
    token = tokens.make_token(tokens.PASSWORD_RESET, unverified_user)

    response = verify(api_client, token)

    assert error_attrs(response) == {"token": "invalid_token"}


def test_verification_token_of_a_deleted_account_is_refused(api_client):
    user = UserFactory(unverified=True, deleted=True)
    token = tokens.make_token(tokens.VERIFY_EMAIL, user, email=user.email)

    response = verify(api_client, token)

    assert error_attrs(response) == {"token": "invalid_token"}


def test_resend_mails_a_new_code(
    client_for, unverified_user, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_for(unverified_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESEND_URL)

    assert response.status_code == 202
    [message] = mailoutbox
    assert message.to == [unverified_user.email]
    assert verify(client, token_in(message)).status_code == 200


def test_resend_for_a_verified_address_is_refused(auth_client):
    response = auth_client.post(RESEND_URL)

    assert response.status_code == 400
    assert error_code(response) == "already_verified"


def test_resend_is_throttled_per_account(client_for, unverified_user):
    client = client_for(unverified_user)

    statuses = [client.post(RESEND_URL).status_code for _ in range(4)]

    assert statuses == [202, 202, 202, 429]


def test_verify_is_throttled_per_ip(api_client):
    responses = [verify(api_client, "x" * 50) for _ in range(11)]

    assert {r.status_code for r in responses[:10]} == {400}
    assert responses[10].status_code == 429
    assert int(responses[10]["Retry-After"]) > 0


# ------------------------------------------------------------------------------
# IsEmailVerified, for the apps that require a verified address
# ------------------------------------------------------------------------------
class VerifiedOnlyView(APIView):
    permission_classes = [IsAuthenticated, IsEmailVerified]

    def post(self, request):
        return Response({"ok": True})


def call_verified_only(user=None):
    request = APIRequestFactory().post("/book/", {}, format="json")
    if user is not None:
        force_authenticate(request, user=user)
    response = VerifiedOnlyView.as_view()(request)
    response.render()
    return response


def test_is_email_verified_refuses_unverified_users_with_a_stable_code(
    unverified_user,
):
    response = call_verified_only(unverified_user)

    assert response.status_code == 403
    assert response.data["errors"][0]["code"] == "email_not_verified"


def test_is_email_verified_lets_verified_users_through(user):
    assert call_verified_only(user).status_code == 200


def test_is_email_verified_answers_401_to_anonymous_requests(db):
    assert call_verified_only().status_code == 401


# ------------------------------------------------------------------------------
# Changing the address
# ------------------------------------------------------------------------------
def request_change(client, new_email, password=DEFAULT_PASSWORD):
    return client.post(EMAIL_URL, {"new_email": new_email, "password": password})


def test_email_change_mails_the_new_address_and_keeps_the_old_one_until_confirmed(
    auth_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    old_email = user.email

    with django_capture_on_commit_callbacks(execute=True):
        response = request_change(auth_client, "New.Me@Example.com")

    assert response.status_code == 202
    assert response.json()["pending_email"] == "new.me@example.com"
    assert response.json()["email"] == old_email
    [message] = mailoutbox
    assert message.to == ["new.me@example.com"]
    user.refresh_from_db()
    assert user.email == old_email


def test_confirming_the_new_address_changes_the_email(
    api_client, auth_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        request_change(auth_client, "new.me@example.com")

    # when
    response = verify(api_client, token_in(mailoutbox[0]))

    # then
    assert response.json() == {"email": "new.me@example.com", "email_verified": True}
    user.refresh_from_db()
    assert user.email == "new.me@example.com"
    assert user.pending_email == ""
    assert sign_in(api_client, "new.me@example.com").status_code == 200


def test_email_change_needs_the_password(auth_client, user):
    response = request_change(auth_client, "new.me@example.com", "wrong-password")

    assert response.status_code == 400
    assert error_attrs(response) == {"password": "wrong_password"}
    user.refresh_from_db()
    assert user.pending_email == ""


def test_email_change_to_a_taken_address_is_refused(auth_client, other_user):
    response = request_change(auth_client, other_user.email.upper())

    assert error_attrs(response) == {"new_email": "email_taken"}


def test_email_change_to_the_same_address_is_refused(auth_client, user):
    response = request_change(auth_client, user.email)

    assert error_attrs(response) == {"new_email": "email_unchanged"}


def test_new_address_taken_before_confirmation_is_refused(api_client, user):
    # given
    user.pending_email = "wanted@example.com"
    user.save(update_fields=["pending_email"])
    token = tokens.make_token(tokens.VERIFY_EMAIL, user, email="wanted@example.com")
    UserFactory(email="wanted@example.com")

    # when
    response = verify(api_client, token)

    # then
    assert error_attrs(response) == {"email": "email_taken"}
    user.refresh_from_db()
    assert user.email != "wanted@example.com"


def test_a_newer_change_request_voids_the_older_code(api_client, auth_client, user):
    request_change(auth_client, "first@example.com")
    user.refresh_from_db()
    first = tokens.make_token(tokens.VERIFY_EMAIL, user, email="first@example.com")
    request_change(auth_client, "second@example.com")

    response = verify(api_client, first)

    assert error_attrs(response) == {"token": "token_used"}


def test_pending_email_cannot_be_set_through_the_profile(auth_client, user):
    auth_client.patch(ME_URL, {"pending_email": "sneaky@example.com"})

    user.refresh_from_db()
    assert user.pending_email == ""
