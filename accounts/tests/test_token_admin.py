"""Staff see who holds which session in the admin, never a refresh token itself."""

import pytest
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.refresh import FamilyRefreshToken

pytestmark = pytest.mark.django_db

OUTSTANDING = "/admin/token_blacklist/outstandingtoken/"
BLACKLISTED = "/admin/token_blacklist/blacklistedtoken/"


def page(admin_client, url) -> str:
    response = admin_client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("token_class", [FamilyRefreshToken, RefreshToken])
def test_outstanding_token_admin_pages_never_show_the_token(
    admin_client, user, token_class
):
    token = token_class.for_user(user)
    outstanding = OutstandingToken.objects.get(jti=token["jti"])

    changelist = page(admin_client, OUTSTANDING)
    change = page(admin_client, f"{OUTSTANDING}{outstanding.pk}/change/")

    for html in (changelist, change):
        assert token["jti"] in html
        assert str(token) not in html
        assert str(token).split(".")[1] not in html


def test_outstanding_token_admin_shows_the_family_and_state(admin_client, user):
    token = FamilyRefreshToken.for_user(user)
    outstanding = OutstandingToken.objects.get(jti=token["jti"])

    html = page(admin_client, f"{OUTSTANDING}{outstanding.pk}/change/")

    assert str(outstanding.family_record.family) in html
    assert user.email in html


def test_blacklisted_token_admin_pages_never_show_the_token(admin_client, user):
    token = FamilyRefreshToken.for_user(user)
    token.blacklist()
    blacklisted = BlacklistedToken.objects.get(token__jti=token["jti"])

    changelist = page(admin_client, BLACKLISTED)
    change = page(admin_client, f"{BLACKLISTED}{blacklisted.pk}/change/")

    for html in (changelist, change):
        assert token["jti"] in html
        assert str(token).split(".")[1] not in html


def test_issued_refresh_tokens_are_not_stored_in_the_database(api_client, user):
    """What the database (and so every backup) holds cannot be used as a token."""
    from django.db import connection

    from accounts.tests.helpers import sign_in

    refresh = sign_in(api_client, user.email).json()["refresh"]
    rotated = api_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": refresh}
    ).json()["refresh"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM token_blacklist_outstandingtoken")
        stored = " ".join(row[0] for row in cursor.fetchall())
    assert refresh not in stored
    assert rotated not in stored
