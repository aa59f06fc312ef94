"""Cheap refresh: ETag / If-None-Match on catalogue, profiles and own lists, and
`?updated_since=` on own lists."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from analysis.models import Analysis
from analysis.tests.factories import AnalysisFactory
from consultations.models import Consultation
from consultations.tests.factories import ConsultationFactory, DermatologistFactory
from notifications.models import Notification
from notifications.tests.factories import NotificationFactory
from routines.models import CheckIn, Routine
from routines.tests.factories import (
    CheckInFactory,
    ProductFactory,
    RoutineFactory,
    RoutineStepFactory,
)

pytestmark = pytest.mark.django_db

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def _routine(user):
    return RoutineFactory(user=user)


def _check_in(user):
    step = RoutineStepFactory(routine=Routine.objects.filter(user=user).first())
    return CheckInFactory(step=step, date=timezone.localdate())


def _check_ins_url(user) -> str:
    return f"/api/v1/routines/{Routine.objects.get(user=user).pk}/check-ins/"


# url (or a function of the user giving it), a maker of one row, its model and the
# field updated_since reads
OWN_LISTS = {
    "analyses": (
        "/api/v1/analyses/",
        lambda u: AnalysisFactory(user=u),
        Analysis,
        "updated_at",
    ),
    "routines": ("/api/v1/routines/", _routine, Routine, "updated_at"),
    "check-ins": (_check_ins_url, _check_in, CheckIn, "created_at"),
    "consultations": (
        "/api/v1/consultations/",
        lambda u: ConsultationFactory(patient=u),
        Consultation,
        "updated_at",
    ),
    "notifications": (
        "/api/v1/notifications/",
        lambda u: NotificationFactory(recipient=u),
        Notification,
        "updated_at",
    ),
}


@pytest.fixture(params=list(OWN_LISTS))
def own_list(request, user):
    url, make, model, field = OWN_LISTS[request.param]
    RoutineFactory(user=user)  # check-ins need one routine
    if request.param == "routines":
        Routine.objects.filter(user=user).delete()
    make(user)
    return (url(user) if callable(url) else url), make, model, field


def test_own_list_answers_304_to_its_etag_and_a_new_etag_after_a_write(
    auth_client, user, own_list
):
    url, make, _, _ = own_list
    first = auth_client.get(url)
    etag = first["ETag"]

    same = auth_client.get(url, HTTP_IF_NONE_MATCH=etag)
    make(user)
    changed = auth_client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert first.status_code == 200
    assert (same.status_code, same.content) == (304, b"")
    assert same["ETag"] == etag
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_updated_since_lists_only_rows_changed_since(auth_client, user, own_list):
    url, make, model, field = own_list
    old = model.objects.get()
    model.objects.filter(pk=old.pk).update(**{field: LONG_AGO})
    new = make(user)

    # (reading first with the filter: a routines read that finds stale warnings
    # stores new ones, which moves updated_at: a change a syncing app must see)
    recent = auth_client.get(url, {"updated_since": "2025-01-01T00:00:00Z"})
    everything = auth_client.get(url).json()["results"]

    assert {r["id"] for r in everything} == {str(old.pk), str(new.pk)}
    assert recent.status_code == 200
    assert [r["id"] for r in recent.json()["results"]] == [str(new.pk)]


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "",
        "2026-01-01T00:00:00",  # no offset
        "2026-13-01T00:00:00Z",
        "2026-01-01T00:00:00 00:00",  # an unencoded "+" read as a space
        "0001-01-01T00:00:00+05:00",  # before year 1 in UTC
    ],
)
def test_a_bad_updated_since_is_400_invalid_timestamp(
    auth_client, user, own_list, value
):
    url = own_list[0]

    response = auth_client.get(url, {"updated_since": value})

    assert response.status_code == 400
    assert [(e["code"], e["attr"]) for e in response.json()["errors"]] == [
        ("invalid_timestamp", "updated_since")
    ]


def test_updated_since_takes_any_offset(auth_client, user):
    url = "/api/v1/routines/"
    routine = RoutineFactory(user=user)
    auth_client.get(url)  # a first read stores the factory-made routine's warnings
    routine.refresh_from_db()
    at = routine.updated_at
    five_hours_west = timezone.get_fixed_timezone(-300)

    before = (at - timedelta(seconds=1)).astimezone(five_hours_west).isoformat()
    after = (at + timedelta(seconds=1)).astimezone(five_hours_west).isoformat()
    listed_before = auth_client.get(url, {"updated_since": before}).json()["results"]
    listed_after = auth_client.get(url, {"updated_since": after}).json()["results"]

    assert before.endswith("-05:00")
    assert [r["id"] for r in listed_before] == [str(routine.pk)]
    assert listed_after == []


def test_partial_saves_and_queryset_updates_move_updated_at(user):
    routine = RoutineFactory(user=user)
    notification = NotificationFactory(recipient=user)
    Routine.objects.filter(pk=routine.pk).update(updated_at=LONG_AGO)
    Notification.objects.filter(pk=notification.pk).update(updated_at=LONG_AGO)
    routine.refresh_from_db()

    routine.name = "Renamed"
    routine.save(update_fields=["name"])
    Notification.objects.filter(pk=notification.pk).update(read_at=timezone.now())

    routine.refresh_from_db()
    notification.refresh_from_db()
    assert routine.updated_at > LONG_AGO + timedelta(days=365)
    assert notification.updated_at > LONG_AGO + timedelta(days=365)


def test_marking_read_is_seen_by_a_syncing_app(auth_client, user):
    notification = NotificationFactory(recipient=user)
    Notification.objects.filter(pk=notification.pk).update(updated_at=LONG_AGO)
    since = {"updated_since": "2025-01-01T00:00:00Z"}
    assert auth_client.get("/api/v1/notifications/", since).json()["results"] == []

    auth_client.post(f"/api/v1/notifications/{notification.pk}/read/")

    results = auth_client.get("/api/v1/notifications/", since).json()["results"]
    assert [(r["id"], r["read"]) for r in results] == [(str(notification.pk), True)]


@pytest.mark.parametrize(
    "url",
    ["/api/v1/products/", "/api/v1/ingredients/", "/api/v1/products/?category=serum"],
)
def test_catalogue_304_costs_no_query_and_a_catalogue_edit_changes_the_etag(
    api_client, url, django_assert_num_queries
):
    etag = api_client.get(url)["ETag"]

    with django_assert_num_queries(0):
        same = api_client.get(url, HTTP_IF_NONE_MATCH=etag)
    ProductFactory()
    changed = api_client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert same.status_code == 304
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_catalogue_etag_differs_per_query(api_client):
    a = api_client.get("/api/v1/products/?category=serum")["ETag"]
    b = api_client.get("/api/v1/products/?category=cleanser")["ETag"]
    assert a != b


def test_dermatologist_profiles_answer_304_until_a_profile_changes(api_client):
    dermatologist = DermatologistFactory()
    detail = f"/api/v1/dermatologists/{dermatologist.pk}/"
    list_etag = api_client.get("/api/v1/dermatologists/")["ETag"]
    detail_etag = api_client.get(detail)["ETag"]

    assert (
        api_client.get("/api/v1/dermatologists/", HTTP_IF_NONE_MATCH=list_etag)
    ).status_code == 304
    assert api_client.get(detail, HTTP_IF_NONE_MATCH=detail_etag).status_code == 304

    dermatologist.bio = "Twenty years of acne care."
    dermatologist.save(update_fields=["bio"])

    assert (
        api_client.get("/api/v1/dermatologists/", HTTP_IF_NONE_MATCH=list_etag)
    ).status_code == 200
    assert api_client.get(detail, HTTP_IF_NONE_MATCH=detail_etag).status_code == 200


def test_private_answers_are_not_etagged(auth_client, user):
    """no-store answers (photos, export) keep no validator a cache could reuse."""
    response = auth_client.get("/api/v1/users/me/export/")
    assert response.status_code == 200
    assert "ETag" not in response
