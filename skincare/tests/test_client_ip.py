"""Client-chosen headers never choose the throttle key (skincare/http.py client_ip)."""

import itertools

import pytest
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.tests.factories import DEFAULT_PASSWORD, DermatologistUserFactory
from skincare.http import client_ip
from skincare.throttling import ClientIPMixin

SOCKET = "198.51.100.20"
_spoofs = itertools.count(1)


def spoofed() -> dict[str, str]:
    """A request from one socket claiming a new forwarded address each time."""
    return {"REMOTE_ADDR": SOCKET, "HTTP_X_FORWARDED_FOR": f"10.0.{next(_spoofs)}.1"}


def _meta(**meta):
    return RequestFactory().get("/", **meta)


# ------------------------------------------------------------------------------
# client_ip
# ------------------------------------------------------------------------------
def test_client_ip_is_the_socket_address_whatever_x_forwarded_for_says(settings):
    settings.TRUSTED_PROXIES = 0

    request = _meta(REMOTE_ADDR=SOCKET, HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert client_ip(request) == SOCKET


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        # fewer entries than proxies: nothing in it was written by a trusted proxy
        (2, "203.0.113.9", SOCKET),
        (1, "", SOCKET),
        (1, "not-an-address", SOCKET),
    ],
)
def test_client_ip_behind_trusted_proxies_takes_the_hop_they_wrote(
    settings, proxies, forwarded, expected
):
    settings.TRUSTED_PROXIES = proxies

    request = _meta(REMOTE_ADDR=SOCKET, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def _api_views():
    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "cls", None)
                if view is not None and hasattr(view, "throttle_classes"):
                    yield view

    return set(walk(get_resolver().url_patterns))


def test_every_api_throttle_keys_on_client_ip():
    throttles = {
        throttle
        for view in _api_views()
        for throttle in view.throttle_classes
        if issubclass(throttle, SimpleRateThrottle)
    }
    throttles |= {
        t
        for t in api_settings.DEFAULT_THROTTLE_CLASSES
        if issubclass(t, SimpleRateThrottle)
    }

    assert throttles
    assert {t for t in throttles if not issubclass(t, ClientIPMixin)} == set()


# ------------------------------------------------------------------------------
# A new X-Forwarded-For on each request does not dodge a per-IP limit
# ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_spoofed_forwarded_for_does_not_dodge_the_api_sign_in_limit(rates):
    rates(auth="3/min")

    responses = [
        APIClient().post(
            "/api/v1/auth/token/",
            {"email": f"p{n}@example.com", "password": "x"},
            **spoofed(),
        )
        for n in range(4)
    ]

    assert [r.status_code for r in responses] == [401, 401, 401, 429]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/dermatologist/login/", "/admin/login/"])
def test_spoofed_forwarded_for_does_not_dodge_the_sign_in_page_limit(rates, url):
    rates(auth="3/min")

    responses = [
        Client().post(
            url, {"username": f"p{n}@example.com", "password": "x"}, **spoofed()
        )
        for n in range(4)
    ]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]


@pytest.mark.django_db
def test_spoofed_forwarded_for_does_not_dodge_the_password_reset_limit(rates):
    rates(password_reset="3/hour")

    responses = [
        APIClient().post(
            "/api/v1/auth/password/reset/", {"email": f"p{n}@example.com"}, **spoofed()
        )
        for n in range(4)
    ]

    assert [r.status_code for r in responses] == [202, 202, 202, 429]


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hashing")
def test_spoofed_forwarded_for_does_not_dodge_a_scoped_rate_throttle(rates):
    """Registration's per-IP limit is DRF's ScopedRateThrottle (scope "register")."""
    rates(register="3/hour")

    responses = [
        APIClient().post(
            "/api/v1/auth/register/",
            {"email": f"p{n}@example.com", "password": "a-Decent-passphrase-42"},
            **spoofed(),
        )
        for n in range(4)
    ]

    assert [r.status_code for r in responses] == [201, 201, 201, 429]


# ------------------------------------------------------------------------------
# Behind one trusted proxy the hop it appended is the client
# ------------------------------------------------------------------------------
def _via_proxy(client_address: str, claimed: str = "6.6.6.6") -> dict[str, str]:
    return {
        "REMOTE_ADDR": "10.0.0.2",
        "HTTP_X_FORWARDED_FOR": f"{claimed}, {client_address}",
    }


@pytest.mark.django_db
def test_behind_a_trusted_proxy_sign_in_is_limited_per_forwarded_client(
    settings, rates
):
    settings.TRUSTED_PROXIES = 1
    rates(auth="2/min")

    def attempt(n, **meta):
        return APIClient().post(
            "/api/v1/auth/token/",
            {"email": f"p{n}@example.com", "password": "x"},
            **meta,
        )

    # one client, whatever it writes on the left of the header
    one = [attempt(n, **_via_proxy("203.0.113.9", f"6.6.6.{n}")) for n in range(3)]
    # another client behind the same proxy has its own budget
    other = attempt(9, **_via_proxy("203.0.113.10"))

    assert [r.status_code for r in one] == [401, 401, 429]
    assert other.status_code == 401


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_dermatologist_page_counts_the_forwarded_client(
    settings, rates
):
    settings.TRUSTED_PROXIES = 1
    rates(auth="2/min")
    user = DermatologistUserFactory()

    for n in range(2):
        Client().post(
            "/dermatologist/login/",
            {"username": user.email, "password": "x"},
            **_via_proxy("203.0.113.9", f"6.6.6.{n}"),
        )
    limited = Client().post(
        "/dermatologist/login/",
        {"username": user.email, "password": DEFAULT_PASSWORD},
        **_via_proxy("203.0.113.9"),
    )
    other = Client().post(
        "/dermatologist/login/",
        {"username": user.email, "password": DEFAULT_PASSWORD},
        **_via_proxy("203.0.113.10"),
    )

    assert limited.status_code == 429
    assert other.status_code == 302
