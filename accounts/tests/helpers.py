"""Paths and small readers shared by the accounts tests."""

import re

from accounts.tests.factories import DEFAULT_PASSWORD

REGISTER_URL = "/api/v1/auth/register/"
VERIFY_URL = "/api/v1/auth/verify-email/"
RESEND_URL = "/api/v1/auth/verify-email/resend/"
TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
RESET_URL = "/api/v1/auth/password/reset/"
RESET_CONFIRM_URL = "/api/v1/auth/password/reset/confirm/"
CHANGE_URL = "/api/v1/auth/password/change/"
ME_URL = "/api/v1/users/me/"
EMAIL_URL = "/api/v1/users/me/email/"
EXPORT_URL = "/api/v1/users/me/export/"
NEW_PASSWORD = "a-Fresh-passphrase-77"


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]


def error_attrs(response) -> dict[str, str]:
    return {error["attr"]: error["code"] for error in response.json()["errors"]}


def sign_in(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post(TOKEN_URL, {"email": email, "password": password}, **extra)


def bearer_get(client, access, url=ME_URL):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    try:
        return client.get(url)
    finally:
        client.credentials()


def token_in(message) -> str:
    """The code in a verification or reset e-mail (the line after 'Code:' or alone)."""
    match = re.search(r"^(?:Code: )?(\S{40,})$", message.body, re.MULTILINE)
    assert match, message.body
    return match.group(1)
