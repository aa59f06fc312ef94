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
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.tests.factories import UserFactory
from skincare.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))

# Operations whose documented 400s enforce rules a JSON schema cannot state; for
# these, "schema-valid but rejected" is the contract, not a finding.
SEMANTIC_400 = {
    "POST /api/v1/analyses/": "a photo that decodes, or answers, is required",
    "POST /api/v1/auth/register/": "password strength; address not taken",
    "POST /api/v1/auth/password/change/": "current password must match",
    "POST /api/v1/auth/password/reset/confirm/": "the token must be genuine",
    "POST /api/v1/auth/verify-email/": "the token must be genuine",
    "POST /api/v1/auth/verify-email/resend/": "only while unverified",
    "POST /api/v1/users/me/email/": "password must match; address not taken",
    "DELETE /api/v1/users/me/": "password must match",
    "PATCH /api/v1/users/me/": "a timezone must be in the tz database",
    "PATCH /api/v1/notifications/preferences/": "quiet hours start and end together",
    "POST /api/v1/consultations/": "the start must be a free slot",
    "POST /api/v1/consultations/{id}/reschedule/": "the start must be a free slot",
    "POST /api/v1/routines/": "products and step ids must exist",
    "PUT /api/v1/routines/{id}/": "products and step ids must exist",
    "PATCH /api/v1/routines/{id}/": "products and step ids must exist",
    "POST /api/v1/routines/{id}/check-ins/": "steps must belong to the routine",
    "POST /api/v1/routines/generate/": "needs a completed analysis or skin type",
    "POST /api/v1/devices/": "the token must have its platform's shape",
}


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
    excluded = (
        [positive_data_acceptance] if case.operation.label in SEMANTIC_400 else []
    )
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"}, excluded_checks=excluded
    )
