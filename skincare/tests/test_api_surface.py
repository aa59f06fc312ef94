import pytest
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator

from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_schema_documents_every_operation_with_errors():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) >= 6
    for path, method, operation in operations:
        assert operation.get("description") or operation.get("summary"), (path, method)
        codes = set(operation["responses"])
        assert any(code.startswith("2") for code in codes), (path, method)
        assert any(code.startswith("4") for code in codes), (path, method)


@pytest.mark.parametrize("path", ["/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_are_served(client, path):
    assert client.get(path).status_code == 200


def test_unknown_api_path_answers_in_the_error_shape(api_client):
    response = api_client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_malformed_json_is_a_parse_error(api_client):
    response = api_client.post(
        "/api/v1/auth/token/", data="{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"


def test_request_id_is_echoed_or_generated(api_client):
    echoed = api_client.get("/health/live/", HTTP_X_REQUEST_ID="abc-123")
    generated = api_client.get("/health/live/")

    assert echoed["X-Request-ID"] == "abc-123"
    assert len(generated["X-Request-ID"]) == 32


def test_unsafe_request_id_is_replaced(api_client):
    response = api_client.get("/health/live/", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert response["X-Request-ID"] != "bad id\nwith newline"


def test_request_is_logged_as_one_line_with_fields(api_client, user, caplog):
    caplog.set_level("INFO", logger="skincare.request")
    api_client.force_authenticate(user)

    api_client.get("/api/v1/users/me/", HTTP_X_REQUEST_ID="req-42")

    record = next(r for r in caplog.records if r.name == "skincare.request")
    assert record.status == 200
    assert record.path == "/api/v1/users/me/"
    assert record.user_id == str(user.pk)
    assert record.request_id == "req-42"
    assert record.duration_ms >= 0


def test_sign_in_is_throttled_with_retry_after(api_client, user, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/min"}
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        from rest_framework.throttling import SimpleRateThrottle

        SimpleRateThrottle.THROTTLE_RATES = rates
        try:
            statuses = [
                api_client.post(
                    "/api/v1/auth/token/",
                    {"email": user.email, "password": DEFAULT_PASSWORD},
                )
                for _ in range(4)
            ]
        finally:
            from rest_framework.settings import api_settings

            SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert int(statuses[-1]["Retry-After"]) > 0
    assert statuses[-1].json()["errors"][0]["code"] == "throttled"


def test_security_headers_are_sent(client):
    response = client.get("/health/live/")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_lost_database_connection_answers_503(auth_client, monkeypatch):
    from django.db import OperationalError

    from notifications import views

    def broken(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(views.selectors, "feed_for", broken)
    # 5xx are reported like Django reports them; the test client would re-raise.
    auth_client.raise_request_exception = False

    response = auth_client.get("/api/v1/notifications/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["errors"][0]["code"] == "service_unavailable"
