from datetime import timedelta

import pytest
from django.urls import reverse

from consultations import errors, services
from consultations.models import Language, Specialty
from consultations.tests.factories import (
    DermatologistFactory,
    next_weekday,
    paris,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/dermatologists/"


def slots_url(dermatologist) -> str:
    return reverse("dermatologist-slots", args=[dermatologist.pk])


def codes(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e["attr"]) for e in response.json()["errors"]]


def test_only_verified_dermatologists_are_listed(api_client):
    verified = DermatologistFactory()
    DermatologistFactory(verified_at=None)

    response = api_client.get(LIST)

    assert response.status_code == 200
    assert [d["id"] for d in response.json()["results"]] == [str(verified.pk)]


def test_profile_shows_types_with_decimal_fee_and_currency(api_client):
    dermatologist = DermatologistFactory()

    body = api_client.get(f"{LIST}{dermatologist.pk}/").json()

    assert {
        "kind": "video",
        "duration_minutes": 30,
        "fee": "60.00",
        "currency": "EUR",
    } in (body["consultation_types"])
    assert body["timezone"] == "Europe/Paris"


def test_unverified_profile_answers_404(api_client):
    dermatologist = DermatologistFactory(verified_at=None)

    assert api_client.get(f"{LIST}{dermatologist.pk}/").status_code == 404


def test_list_filters_by_specialty_language_and_type(api_client):
    acne = Specialty.objects.create(slug="acne", name="Acne")
    french = Language.objects.create(code="fr", name="French")
    match = DermatologistFactory()
    match.specialties.add(acne)
    match.languages.add(french)
    DermatologistFactory(types=[("in_person", 45, "90.00")]).languages.add(french)
    DermatologistFactory()

    response = api_client.get(
        LIST, {"specialty": "acne", "language": "fr", "consultation_type": "video"}
    )

    assert [d["id"] for d in response.json()["results"]] == [str(match.pk)]
    only_type = api_client.get(LIST, {"consultation_type": "in_person"}).json()
    assert only_type["count"] == 3


@pytest.mark.parametrize("count", [2, 10])
def test_list_query_count_does_not_grow(api_client, django_assert_num_queries, count):
    specialty = Specialty.objects.create(slug="acne", name="Acne")
    for _ in range(count):
        DermatologistFactory().specialties.add(specialty)

    # count, page, specialties, languages, types
    with django_assert_num_queries(5):
        response = api_client.get(LIST)

    assert response.json()["count"] == count


def test_slots_are_utc_starts_of_local_working_hours(api_client):
    dermatologist = DermatologistFactory()
    monday = next_weekday(0)

    response = api_client.get(
        slots_url(dermatologist),
        {
            "from": paris(monday, 0).isoformat(),
            "to": paris(monday + timedelta(days=1), 0).isoformat(),
            "type": "video",
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["duration_minutes"] == 30
    assert len(body["slots"]) == 14  # 6 in the morning, 8 in the afternoon
    first = body["slots"][0]
    assert first.endswith("Z")
    # 09:00 in Paris is 07:00 or 08:00 UTC depending on DST.
    assert first == paris(monday, 9).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_slots_window_given_in_another_offset_means_the_same_instants(api_client):
    dermatologist = DermatologistFactory()
    monday = next_weekday(0)
    start, end = paris(monday, 0), paris(monday + timedelta(days=1), 0)
    tokyo = timedelta(hours=9)

    utc = api_client.get(
        slots_url(dermatologist),
        {"from": start.isoformat(), "to": end.isoformat(), "type": "video"},
    ).json()["slots"]
    from datetime import timezone as dt_timezone

    in_tokyo = api_client.get(
        slots_url(dermatologist),
        {
            "from": start.astimezone(dt_timezone(tokyo)).isoformat(),
            "to": end.astimezone(dt_timezone(tokyo)).isoformat(),
            "type": "video",
        },
    ).json()["slots"]

    assert utc == in_tokyo


def test_slots_leave_out_a_booked_slot(api_client):
    from consultations.tests.factories import ConsultationFactory

    dermatologist = DermatologistFactory()
    monday = next_weekday(0)
    ConsultationFactory(dermatologist=dermatologist, start=paris(monday, 9))

    slots = api_client.get(
        slots_url(dermatologist),
        {
            "from": paris(monday, 9).isoformat(),
            "to": paris(monday, 10).isoformat(),
            "type": "video",
        },
    ).json()["slots"]

    assert slots == [paris(monday, 9, 30).strftime("%Y-%m-%dT%H:%M:%SZ")]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"from": "yesterday", "to": "2030-01-02T00:00:00Z"},
            ("invalid_window", "from"),
        ),
        (
            {"from": "2030-01-01T00:00:00", "to": "2030-01-02T00:00:00Z"},
            ("invalid_window", "from"),
        ),
        (
            {"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"},
            ("invalid_window", "to"),
        ),
        (
            {"from": "2030-01-01T00:00:00Z", "to": "2030-02-02T00:00:00Z"},
            ("window_too_long", "to"),
        ),
        (
            {
                "from": "2030-01-01T00:00:00Z",
                "to": "2030-01-02T00:00:00Z",
                "type": "chat",
            },
            ("unknown_consultation_type", "type"),
        ),
    ],
)
def test_slots_refuse_bad_windows_and_types(api_client, params, expected):
    dermatologist = DermatologistFactory()

    response = api_client.get(slots_url(dermatologist), {"type": "video", **params})

    assert response.status_code == 400
    assert codes(response) == [expected]


def test_slots_refuse_a_type_the_dermatologist_does_not_offer(api_client):
    dermatologist = DermatologistFactory(types=[("video", 30, "60.00")])

    response = api_client.get(
        slots_url(dermatologist),
        {
            "from": "2030-01-01T00:00:00Z",
            "to": "2030-01-02T00:00:00Z",
            "type": "in_person",
        },
    )

    assert codes(response) == [("unknown_consultation_type", "type")]


def test_slots_accept_exactly_31_days(api_client):
    dermatologist = DermatologistFactory()

    response = api_client.get(
        slots_url(dermatologist),
        {"from": "2030-01-01T00:00:00Z", "to": "2030-02-01T00:00:00Z", "type": "video"},
    )

    assert response.status_code == 200


def test_slots_without_a_window_answer_invalid_window_on_both_ends(api_client):
    dermatologist = DermatologistFactory()

    response = api_client.get(slots_url(dermatologist), {"type": "video"})

    assert response.status_code == 400
    assert codes(response) == [("invalid_window", "from"), ("invalid_window", "to")]


def test_find_free_slots_refuses_a_type_the_dermatologist_does_not_offer():
    dermatologist = DermatologistFactory(types=[("video", 30, "60.00")])
    monday = next_weekday(0)

    with pytest.raises(errors.UnknownConsultationType):
        services.find_free_slots(
            dermatologist=dermatologist,
            kind="in_person",
            window_start=paris(monday, 0),
            window_end=paris(monday, 23),
        )


def test_find_free_slots_refuses_a_window_that_ends_before_it_starts():
    dermatologist = DermatologistFactory()
    monday = next_weekday(0)

    with pytest.raises(errors.InvalidWindow) as refused:
        services.find_free_slots(
            dermatologist=dermatologist,
            kind="video",
            window_start=paris(monday, 12),
            window_end=paris(monday, 9),
        )

    assert (refused.value.code, refused.value.field) == ("invalid_window", "to")


def test_find_free_slots_refuses_a_window_longer_than_31_days():
    dermatologist = DermatologistFactory()
    monday = next_weekday(0)

    with pytest.raises(errors.WindowTooLong):
        services.find_free_slots(
            dermatologist=dermatologist,
            kind="video",
            window_start=paris(monday, 0),
            window_end=paris(monday + timedelta(days=32), 0),
        )


def test_find_free_slots_gives_the_type_and_its_free_starts():
    dermatologist = DermatologistFactory()
    monday = next_weekday(0)

    found = services.find_free_slots(
        dermatologist=dermatologist,
        kind="in_person",
        window_start=paris(monday, 9),
        window_end=paris(monday, 10),
    )

    assert found.consultation_type.duration_minutes == 45
    assert found.slots == [paris(monday, 9), paris(monday, 9, 45)]
