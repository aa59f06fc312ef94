"""Every way to present a password goes through accounts.signin: same limits, same lock.

Each test runs on every entry point: API sign-in, the dermatologist and admin sign-in
pages, password change, e-mail change and account deletion.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    DermatologistUserFactory,
    UserFactory,
)
from accounts.tests.helpers import (
    CHANGE_URL,
    EMAIL_URL,
    ME_URL,
    NEW_PASSWORD,
    TOKEN_URL,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

THRESHOLD = settings.ACCOUNT_LOCKOUT_THRESHOLD
WRONG = "not-the-Password-1"
DERMATOLOGIST_LOGIN = "/dermatologist/login/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"
MANY = "1000/min"


def _bearer(user) -> APIClient:
    client = APIClient()
    access = RefreshToken.for_user(user).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def _api_sign_in(user, password, ip):
    return APIClient().post(
        TOKEN_URL, {"email": user.email, "password": password}, REMOTE_ADDR=ip
    )


def _page_sign_in(url):
    def attempt(user, password, ip):
        return Client().post(
            url, {"username": user.email, "password": password}, REMOTE_ADDR=ip
        )

    return attempt


def _change_password(user, password, ip):
    return _bearer(user).post(
        CHANGE_URL,
        {"current_password": password, "new_password": NEW_PASSWORD},
        REMOTE_ADDR=ip,
    )


def _change_email(user, password, ip):
    return _bearer(user).post(
        EMAIL_URL,
        {"new_email": f"new-{user.email}", "password": password},
        REMOTE_ADDR=ip,
    )


def _delete_account(user, password, ip):
    return _bearer(user).delete(ME_URL, {"password": password}, REMOTE_ADDR=ip)


@dataclass(frozen=True)
class Door:
    """One way in: who may use it, how to knock, what a right and a wrong key get."""

    make_user: Callable[[], User]
    attempt: Callable[[User, str, str], object]
    ok_status: int
    wrong_status: int
    is_page: bool = False
    ip_scope: str = "auth"
    account_scope: str = "sign_in_account"


SIGN_IN_DOORS = {
    "api_token": Door(UserFactory, _api_sign_in, 200, 401),
    "dermatologist_page": Door(
        DermatologistUserFactory, _page_sign_in(DERMATOLOGIST_LOGIN), 302, 200, True
    ),
    "admin_page": Door(
        lambda: UserFactory(is_staff=True), _page_sign_in(ADMIN_LOGIN), 302, 200, True
    ),
}
CONFIRM = {"ip_scope": "password_check_ip", "account_scope": "password_check"}
CONFIRM_DOORS = {
    "password_change": Door(UserFactory, _change_password, 200, 400, **CONFIRM),
    "email_change": Door(UserFactory, _change_email, 202, 400, **CONFIRM),
    "account_deletion": Door(UserFactory, _delete_account, 204, 400, **CONFIRM),
}
DOORS = {**SIGN_IN_DOORS, **CONFIRM_DOORS}


@pytest.fixture(params=list(DOORS))
def door(request) -> Door:
    return DOORS[request.param]


def limit_code(response) -> str | None:
    """The refusal's code: ``throttled``, ``account_locked`` or None if not refused."""
    if response.status_code != 429:
        return None
    assert int(response["Retry-After"]) > 0
    if response.get("Content-Type", "").startswith("application/json"):
        return response.json()["errors"][0]["code"]
    content = response.content.decode()
    if "this account is locked" in content:
        return "account_locked"
    assert "Too many sign-in attempts" in content, content
    return "throttled"


def visible_answer(response) -> tuple[int, str]:
    """What the client learns: status and error text, with numbers (waits) masked."""
    if response.get("Content-Type", "").startswith("application/json"):
        text = response.content.decode()
    else:
        found = re.search(
            r'<ul class="errorlist nonfield">.*?</ul>', response.content.decode(), re.S
        )
        text = found.group(0) if found else ""
    return response.status_code, re.sub(r"\d+", "N", text)


def lock(user) -> None:
    user.locked_until = timezone.now() + timedelta(minutes=10)
    user.save(update_fields=["locked_until"])


# ------------------------------------------------------------------------------
# Every entry point
# ------------------------------------------------------------------------------
def test_password_attempts_are_limited_per_ip(door, rates):
    rates(**{door.ip_scope: "3/min", door.account_scope: MANY})
    users = [door.make_user() for _ in range(4)]

    responses = [door.attempt(u, WRONG, "198.51.100.7") for u in users[:3]]
    refused = door.attempt(users[3], DEFAULT_PASSWORD, "198.51.100.7")

    assert {r.status_code for r in responses} == {door.wrong_status}
    assert limit_code(refused) == "throttled"


def test_password_attempts_are_limited_per_account_across_ips(door, rates):
    rates(**{door.ip_scope: MANY, door.account_scope: "3/min"})
    user = door.make_user()

    responses = [door.attempt(user, WRONG, f"198.51.100.{n}") for n in range(3)]
    refused = door.attempt(user, DEFAULT_PASSWORD, "198.51.100.99")

    assert {r.status_code for r in responses} == {door.wrong_status}
    assert limit_code(refused) == "throttled"
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert user.is_active
    assert not user.pending_email


def test_threshold_failures_lock_the_account(door, rates):
    rates(**{door.ip_scope: MANY, door.account_scope: MANY})
    user = door.make_user()

    responses = [door.attempt(user, WRONG, "198.51.100.7") for _ in range(THRESHOLD)]

    assert [r.status_code for r in responses[:-1]] == [door.wrong_status] * (
        THRESHOLD - 1
    )
    assert limit_code(responses[-1]) == "account_locked"
    user.refresh_from_db()
    assert user.locked_until > timezone.now()


def test_locked_account_is_refused_with_the_right_password_like_a_wrong_one(door):
    user = door.make_user()
    lock(user)

    right = door.attempt(user, DEFAULT_PASSWORD, "198.51.100.7")
    wrong = door.attempt(user, WRONG, "198.51.100.8")

    assert limit_code(right) == "account_locked"
    assert visible_answer(right) == visible_answer(wrong)
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert user.is_active
    assert not user.pending_email


def test_right_password_passes_and_clears_the_failure_count(door, rates):
    rates(**{door.ip_scope: MANY, door.account_scope: MANY})
    user = door.make_user()
    for _ in range(THRESHOLD - 1):
        door.attempt(user, WRONG, "198.51.100.7")

    response = door.attempt(user, DEFAULT_PASSWORD, "198.51.100.7")

    assert response.status_code == door.ok_status
    user.refresh_from_db()
    assert user.failed_sign_ins == 0


# ------------------------------------------------------------------------------
# The pages admit only their own kind of account
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "outsider"),
    [
        (DERMATOLOGIST_LOGIN, lambda: UserFactory()),
        (DERMATOLOGIST_LOGIN, lambda: UserFactory(is_staff=True)),
        (ADMIN_LOGIN, lambda: DermatologistUserFactory()),
    ],
    ids=[
        "patient_on_dermatologist_page",
        "staff_on_dermatologist_page",
        "dermatologist_on_admin_page",
    ],
)
def test_sign_in_page_refuses_other_roles_like_a_wrong_password(url, outsider):
    user = outsider()
    client = Client()

    right = client.post(url, {"username": user.email, "password": DEFAULT_PASSWORD})
    wrong = client.post(url, {"username": user.email, "password": WRONG})

    assert right.status_code == 200
    assert visible_answer(right) == visible_answer(wrong)
    assert "_auth_user_id" not in client.session


def test_dermatologist_page_signs_a_dermatologist_in():
    user = DermatologistUserFactory()
    client = Client()

    response = client.post(
        DERMATOLOGIST_LOGIN, {"username": user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


# ------------------------------------------------------------------------------
# django.contrib.auth.authenticate() cannot go around the service
# ------------------------------------------------------------------------------
def _authenticate(user, password, ip="198.51.100.7"):
    request = RequestFactory().post("/", REMOTE_ADDR=ip)
    return authenticate(request, username=user.email, password=password)


def test_authenticate_refuses_a_locked_account_with_the_right_password(user):
    lock(user)

    assert _authenticate(user, DEFAULT_PASSWORD) is None


def test_authenticate_failures_lock_the_account(user, rates):
    rates(auth=MANY, sign_in_account=MANY)

    results = [_authenticate(user, WRONG) for _ in range(THRESHOLD)]

    assert results == [None] * THRESHOLD
    user.refresh_from_db()
    assert user.locked_until > timezone.now()
    assert _authenticate(user, DEFAULT_PASSWORD) is None


def test_authenticate_is_limited_per_ip(rates):
    rates(auth="2/min", sign_in_account=MANY)
    first, second, third = UserFactory(), UserFactory(), UserFactory()

    assert _authenticate(first, WRONG) is None
    assert _authenticate(second, WRONG) is None

    assert _authenticate(third, DEFAULT_PASSWORD) is None
    assert _authenticate(third, DEFAULT_PASSWORD, ip="198.51.100.8") == third
