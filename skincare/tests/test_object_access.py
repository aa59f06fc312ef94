"""Every URL that takes an id, walked as someone who must not reach the object.

The URLs come from the URL conf, so a new endpoint with an id fails
`test_every_url_with_an_id_is_classified` until it is added here.
"""

import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.tests.factories import DermatologistUserFactory, UserFactory
from analysis.tests.factories import CompletedAnalysisFactory
from consultations.models import SharedAnalysis
from consultations.tests.factories import ConsultationFactory, DermatologistFactory
from notifications.tests.factories import NotificationFactory
from push.tests.factories import DeviceFactory
from routines.tests.factories import RoutineFactory

pytestmark = pytest.mark.django_db

# Catalogue and dermatologist profiles are public by design.
PUBLIC = {
    "product-detail",
    "ingredient-detail",
    "dermatologist-detail",
    "dermatologist-slots",
}
OWNED_API = {
    "notification-detail": "notification",
    "notification-read": "notification",
    "analysis-detail": "analysis",
    "analysis-photo": "analysis",
    "routine-detail": "routine",
    "routine-adherence": "routine",
    "routine-check-ins": "routine",
    "consultation-detail": "consultation",
    "consultation-cancel": "consultation",
    "consultation-reschedule": "consultation",
    "consultation-calendar": "consultation",
    "consultation-accesses": "consultation",
    "consultation-revoke-shares": "consultation",
    "device-detail": "device",
}
DERMATOLOGIST_PAGES = {
    "dermatologist:consultation",
    "dermatologist:confirm",
    "dermatologist:decline",
    "dermatologist:complete",
    "dermatologist:no-show",
    "dermatologist:shared-photo",
}
# Capability URLs: the signed token names the owner and expires; tested in
# analysis/tests/test_export_photos.py (another user's, forged, expired, deleted: 404).
SIGNED = {"analysis-photo-link"}
METHODS = ["get", "post", "put", "patch", "delete"]


@dataclass
class Route:
    name: str
    pattern: str
    callback: object

    def url(self, **ids) -> str:
        path = re.sub(r"\^|\$", "", self.pattern)
        for key, value in ids.items():
            path = re.sub(rf"\(\?P<{key}>[^)]*\)|<uuid:{key}>", str(value), path)
        return "/" + path

    def methods(self) -> list[str]:
        actions = getattr(self.callback, "actions", None)
        if actions:
            return [m for m in METHODS if m in actions]
        view_class = getattr(self.callback, "cls", None) or getattr(
            self.callback, "view_class", None
        )
        if view_class is not None:
            allowed = getattr(view_class, "http_method_names", METHODS)
            return [m for m in METHODS if m in allowed and hasattr(view_class, m)]
        return ["get", "post"]


def routes_with_ids() -> list[Route]:
    found = []

    def walk(patterns, prefix="", namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if str(entry.pattern).startswith("admin/"):
                    continue
                ns = f"{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, prefix + str(entry.pattern), ns)
            elif isinstance(entry, URLPattern):
                pattern = prefix + str(entry.pattern)
                if "<" in pattern:
                    found.append(
                        Route(f"{namespace}{entry.name}", pattern, entry.callback)
                    )

    walk(get_resolver().url_patterns)
    return found


def test_every_url_with_an_id_is_classified():
    names = {route.name for route in routes_with_ids()}

    unclassified = names - PUBLIC - set(OWNED_API) - DERMATOLOGIST_PAGES - SIGNED

    assert not unclassified, f"classify these URLs in {__name__}: {unclassified}"


@pytest.fixture
def owned():
    """One object of each kind, all belonging to one patient and one dermatologist."""
    owner = UserFactory()
    dermatologist = DermatologistFactory()
    analysis = CompletedAnalysisFactory(user=owner)
    consultation = ConsultationFactory(patient=owner, dermatologist=dermatologist)
    SharedAnalysis.objects.create(
        consultation=consultation,
        analysis=analysis,
        consent_given_at=analysis.created_at,
    )
    return {
        "owner": owner,
        "notification": NotificationFactory(recipient=owner),
        "analysis": analysis,
        "routine": RoutineFactory(user=owner),
        "consultation": consultation,
        "device": DeviceFactory(user=owner),
    }


@pytest.mark.parametrize("outsider", ["another_patient", "unrelated_dermatologist"])
def test_api_objects_answer_404_to_anyone_but_their_owner(owned, client_for, outsider):
    intruder = (
        UserFactory() if outsider == "another_patient" else DermatologistFactory().user
    )
    client = client_for(intruder)
    checked = 0
    for route in routes_with_ids():
        if route.name not in OWNED_API:
            continue
        target = owned[OWNED_API[route.name]]
        for method in route.methods():
            response = getattr(client, method)(route.url(pk=target.pk), {})
            assert response.status_code == 404, (
                route.name,
                method,
                response.status_code,
            )
            checked += 1
    assert checked >= len(OWNED_API)


def test_dermatologist_pages_refuse_patients_and_other_dermatologists(owned, client):
    consultation = owned["consultation"]
    other_dermatologist = DermatologistFactory().user
    patient = owned["owner"]
    for route in routes_with_ids():
        if route.name not in DERMATOLOGIST_PAGES:
            continue
        url = route.url(pk=consultation.pk, analysis_id=owned["analysis"].pk)
        for user, expected in ((patient, 403), (other_dermatologist, 404)):
            client.force_login(user)
            for method in ("get", "post"):
                status = getattr(client, method)(url).status_code
                assert status in (expected, 405), (route.name, method, user, status)


def test_dermatologist_cannot_open_an_analysis_not_shared_with_them(owned, client):
    consultation = owned["consultation"]
    unshared = CompletedAnalysisFactory(user=owned["owner"])
    client.force_login(consultation.dermatologist.user)

    response = client.get(
        f"/dermatologist/consultations/{consultation.pk}/analyses/{unshared.pk}/photo/"
    )

    assert response.status_code == 404


def test_a_dermatologist_user_without_a_profile_is_refused_pages(client):
    client.force_login(DermatologistUserFactory())

    assert client.get("/dermatologist/").status_code in (403, 404)


def test_the_same_urls_answer_their_owner(owned, client_for):
    """Control: the walk builds real URLs, so the 404s above are about access."""
    client = client_for(owned["owner"])
    for route in routes_with_ids():
        if route.name not in OWNED_API or "get" not in route.methods():
            continue
        target = owned[OWNED_API[route.name]]
        response = client.get(route.url(pk=target.pk))
        # A photo-less analysis has no photo to serve; everything else answers.
        expected = 404 if route.name == "analysis-photo" else 200
        assert response.status_code == expected, (route.name, response.status_code)
