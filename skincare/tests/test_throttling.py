import pytest
from rest_framework.throttling import SimpleRateThrottle

pytestmark = pytest.mark.django_db


def test_user_rate_limit_answers_429_with_retry_after(auth_client, monkeypatch):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "user": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    statuses = [auth_client.get("/api/v1/notifications/").status_code for _ in range(4)]
    limited = auth_client.get("/api/v1/notifications/")

    assert statuses == [200, 200, 200, 429]
    assert 0 < int(limited["Retry-After"]) <= 60
    assert limited.json()["errors"][0]["code"] == "throttled"


def test_user_rate_limit_is_per_user(auth_client, other_client, monkeypatch):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "user": "2/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    for _ in range(3):
        auth_client.get("/api/v1/notifications/")

    assert other_client.get("/api/v1/notifications/").status_code == 200
