"""Property-based API fuzzing from the project's own OpenAPI schema (schemathesis 4).

Every operation is exercised signed in as a real user with all of schemathesis's
checks. FUZZ_EXAMPLES (default 15) bounds the examples per operation; `make fuzz`
runs many more.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from skincare.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))


@pytest.fixture
def _keep_test_connection():
    """Calls straight into the WSGI app must not close the test's open transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_user(db, monkeypatch, _keep_test_connection):
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {scope: "100000/min" for scope in SimpleRateThrottle.THROTTLE_RATES},
    )
    return UserFactory(consent_photo_analysis_at="2026-01-01T00:00:00Z")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, fuzz_user):
    token = str(RefreshToken.for_user(fuzz_user).access_token)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
