from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
LOGOUT_URL = "/api/v1/auth/logout/"
ME_URL = "/api/v1/users/me/"


def sign_in(api_client, email, password=DEFAULT_PASSWORD):
    return api_client.post(TOKEN_URL, {"email": email, "password": password})


def bearer(api_client, access):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return api_client.get(ME_URL)


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]


def test_sign_in_returns_working_tokens(api_client, user):
    response = sign_in(api_client, user.email)

    assert response.status_code == 200
    assert bearer(api_client, response.json()["access"]).json()["email"] == user.email


def test_sign_in_email_is_case_insensitive(api_client, user):
    assert sign_in(api_client, user.email.upper()).status_code == 200


def test_sign_in_with_wrong_password_is_refused(api_client, user):
    response = sign_in(api_client, user.email, "wrong-password")

    assert response.status_code == 401
    assert error_code(response) == "no_active_account"


def test_expired_access_token_is_refused(api_client, user):
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1))

    response = bearer(api_client, str(token))

    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"


def test_tampered_access_token_is_refused(api_client, user):
    header, payload, signature = str(AccessToken.for_user(user)).split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"

    assert bearer(api_client, tampered).status_code == 401


def test_token_signed_with_another_key_is_refused(api_client, user):
    claims = dict(AccessToken.for_user(user).payload)
    forged = jwt.encode(claims, "not-the-server-key", algorithm="HS256")

    assert bearer(api_client, forged).status_code == 401


@pytest.mark.parametrize("algorithm", ["none", "HS512"])
def test_token_with_another_algorithm_is_refused(api_client, user, algorithm):
    claims = dict(AccessToken.for_user(user).payload)
    key = None if algorithm == "none" else settings.SIMPLE_JWT["SIGNING_KEY"]
    forged = jwt.encode(claims, key, algorithm=algorithm)

    assert bearer(api_client, forged).status_code == 401


def test_refresh_rotates_and_blacklists_the_old_token(api_client, user):
    refresh = sign_in(api_client, user.email).json()["refresh"]

    rotated = api_client.post(REFRESH_URL, {"refresh": refresh})
    successor = api_client.post(REFRESH_URL, {"refresh": rotated.json()["refresh"]})
    reused = api_client.post(REFRESH_URL, {"refresh": refresh})

    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert successor.status_code == 200
    # reuse ends the whole family: accounts/tests/test_refresh_family.py
    assert reused.status_code == 401


def test_logout_blacklists_the_refresh_token(api_client, user):
    refresh = sign_in(api_client, user.email).json()["refresh"]

    logout = api_client.post(LOGOUT_URL, {"refresh": refresh})

    assert logout.status_code == 204
    assert api_client.post(REFRESH_URL, {"refresh": refresh}).status_code == 401


def test_logout_with_garbage_token_is_a_client_error(api_client):
    response = api_client.post(LOGOUT_URL, {"refresh": "garbage"})

    assert response.status_code == 401
    assert error_code(response) == "token_not_valid"


def test_deleted_users_still_valid_access_token_is_refused(api_client, user):
    tokens = sign_in(api_client, user.email).json()
    user.is_active = False
    user.deleted_at = timezone.now()
    user.save(update_fields=["is_active", "deleted_at"])

    assert bearer(api_client, tokens["access"]).status_code == 401
    api_client.credentials()
    assert (
        api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}).status_code == 401
    )
    assert sign_in(api_client, user.email).status_code == 401


def test_inactive_user_cannot_sign_in(api_client):
    user = UserFactory(is_active=False)

    assert sign_in(api_client, user.email).status_code == 401


def test_password_change_invalidates_earlier_access_tokens(api_client, user):
    access = str(RefreshToken.for_user(user).access_token)
    user.set_password("another-Strong-pass-7")
    user.save(update_fields=["password"])

    assert bearer(api_client, access).status_code == 401


def test_bcrypt_hash_is_accepted_and_upgraded_to_argon2(api_client):
    from django.contrib.auth.hashers import make_password

    user = UserFactory(password=make_password(DEFAULT_PASSWORD, hasher="bcrypt_sha256"))

    assert sign_in(api_client, user.email).status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
