"""Deprecating an operation: `deprecated: true` in the schema, headers on its answers.

Nothing is deprecated in production today, so these tests deprecate a real operation
(GET analyses/{id}/) through settings.API_DEPRECATIONS.
"""

import datetime as dt
from email.utils import parsedate_to_datetime

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from analysis.tests.factories import AnalysisFactory
from skincare import schema
from skincare.versioning import deprecations

DEPRECATED = {
    "GET /api/v1/analyses/{id}/": {
        "deprecated": "2027-01-04",
        "sunset": "2027-07-05",
        "link": "https://docs.example.com/api/v2/analyses",
    }
}


@pytest.fixture
def deprecated(settings):
    settings.API_DEPRECATIONS = DEPRECATED


@pytest.mark.django_db
def test_deprecated_operation_answers_deprecation_sunset_and_link(
    deprecated, auth_client, user
):
    analysis = AnalysisFactory(user=user)

    response = auth_client.get(f"/api/v1/analyses/{analysis.pk}/")

    assert response.status_code == 200
    since = dt.datetime(2027, 1, 4, tzinfo=dt.UTC)
    assert response["Deprecation"] == f"@{int(since.timestamp())}"
    assert response["Sunset"] == "Mon, 05 Jul 2027 00:00:00 GMT"
    assert parsedate_to_datetime(response["Sunset"]) == dt.datetime(
        2027, 7, 5, tzinfo=dt.UTC
    )
    assert response["Link"] == (
        '<https://docs.example.com/api/v2/analyses>; rel="deprecation"'
    )


@pytest.mark.django_db
def test_an_error_of_a_deprecated_operation_carries_the_headers_too(
    deprecated, auth_client
):
    response = auth_client.get("/api/v1/analyses/00000000-0000-0000-0000-000000000000/")

    assert response.status_code == 404
    assert "Sunset" in response


@pytest.mark.django_db
def test_other_operations_on_the_same_or_a_shorter_path_are_not_deprecated(
    deprecated, auth_client, user
):
    analysis = AnalysisFactory(user=user)

    listed = auth_client.get("/api/v1/analyses/")
    deleted = auth_client.delete(f"/api/v1/analyses/{analysis.pk}/")
    photo = auth_client.get(f"/api/v1/analyses/{analysis.pk}/photo/")

    for response in (listed, deleted, photo):
        assert "Deprecation" not in response
        assert "Sunset" not in response


@pytest.mark.django_db
def test_nothing_is_deprecated_by_default(auth_client, user):
    analysis = AnalysisFactory(user=user)

    response = auth_client.get(f"/api/v1/analyses/{analysis.pk}/")

    assert response.status_code == 200
    assert "Deprecation" not in response
    assert deprecations() == {}


@pytest.mark.django_db
def test_served_schema_marks_the_deprecated_operation(deprecated, client):
    served = yaml.safe_load(client.get("/api/v1/schema/").content)

    operation = served["paths"]["/api/v1/analyses/{id}/"]["get"]
    assert operation["deprecated"] is True
    assert operation["description"].startswith("**Deprecated** since 2027-01-04")
    assert set(operation["responses"]["200"]["headers"]) == {
        "Deprecation",
        "Sunset",
        "Link",
    }
    others = [
        op
        for path, item in served["paths"].items()
        for method, op in item.items()
        if (path, method) != ("/api/v1/analyses/{id}/", "get")
    ]
    assert not [op["operationId"] for op in others if op.get("deprecated")]


@pytest.mark.parametrize(
    "configured",
    [
        {"/api/v1/analyses/": {"deprecated": "2027-01-04", "sunset": "2027-07-05"}},
        {"GET /api/v1/analyses/": {"deprecated": "soon", "sunset": "2027-07-05"}},
        {"GET /api/v1/analyses/": {"deprecated": "2027-07-05", "sunset": "2027-01-04"}},
        {"GET /api/v1/analyses/": {"deprecated": "2027-01-04"}},
    ],
)
def test_a_malformed_deprecation_is_refused(settings, configured):
    settings.API_DEPRECATIONS = configured

    with pytest.raises(ImproperlyConfigured):
        deprecations()


def test_a_deprecation_naming_no_operation_is_a_schema_warning(settings, monkeypatch):
    settings.API_DEPRECATIONS = {
        "GET /api/v1/analysis/gone/": {
            "deprecated": "2027-01-04",
            "sunset": "2027-07-05",
        }
    }
    warned = []
    monkeypatch.setattr(schema, "warn", warned.append)

    schema.deprecated_operations({"paths": {}}, None, None, True)

    assert warned == [
        "API_DEPRECATIONS: no operation GET /api/v1/analysis/gone/ in the schema"
    ]
