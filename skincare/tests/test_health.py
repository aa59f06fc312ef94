import pytest

from skincare import health

pytestmark = pytest.mark.django_db


def test_live_answers_ok(client):
    assert client.get("/health/live/").json() == {"status": "ok"}


def test_ready_answers_ok_when_everything_is_up(client):
    response = client.get("/health/ready/")

    assert response.status_code == 200, response.json()
    assert response.json()["down"] == []


def test_ready_names_what_is_down(client, monkeypatch):
    def broken():
        raise ConnectionError("refused")

    monkeypatch.setitem(health.READINESS_CHECKS, "cache", broken)

    response = client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["down"] == ["cache"]
    assert response.json()["checks"]["database"] == "ok"
