"""Dermatologist profiles are created, given types and verified through services."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.tests.factories import DermatologistUserFactory, UserFactory
from consultations import errors, services
from consultations.models import ConsultationType, Dermatologist

pytestmark = pytest.mark.django_db

LIST = "/api/v1/dermatologists/"


def create(user, **extra) -> Dermatologist:
    return services.create_dermatologist(
        user=user, credentials="MD", licence_number="LIC-1", **extra
    )


def test_created_dermatologist_is_listed_only_once_verified(api_client, admin_user):
    dermatologist = create(
        DermatologistUserFactory(),
        specialties=[services.ensure_specialty(slug="acne", name="Acne")],
        languages=[services.ensure_language(code="fr", name="French")],
    )
    services.add_consultation_type(
        dermatologist=dermatologist, kind="video", duration_minutes=30, fee="60.00"
    )

    before = api_client.get(LIST).json()["results"]
    services.verify_dermatologist(dermatologist=dermatologist, by=admin_user)
    after = api_client.get(LIST).json()["results"]

    assert before == []
    assert [d["id"] for d in after] == [str(dermatologist.pk)]
    assert (after[0]["specialties"], after[0]["languages"]) == (["acne"], ["fr"])
    assert after[0]["consultation_types"] == [
        {"kind": "video", "duration_minutes": 30, "fee": "60.00", "currency": "EUR"}
    ]


def test_a_profile_for_an_account_without_the_dermatologist_role_is_refused():
    with pytest.raises(errors.NotADermatologist):
        create(UserFactory())

    assert not Dermatologist.objects.exists()


def test_a_profile_with_an_unknown_time_zone_is_refused():
    with pytest.raises(ValidationError) as refused:
        create(DermatologistUserFactory(), timezone="Mars/Olympus")

    assert "timezone" in refused.value.message_dict
    assert not Dermatologist.objects.exists()


def test_a_consultation_type_shorter_than_five_minutes_is_refused():
    dermatologist = create(DermatologistUserFactory())

    with pytest.raises(ValidationError):
        services.add_consultation_type(
            dermatologist=dermatologist, kind="phone", duration_minutes=3, fee="10"
        )

    assert not ConsultationType.objects.exists()


def test_ensure_specialty_and_language_are_idempotent():
    first = services.ensure_specialty(slug="acne", name="Acne")
    again = services.ensure_specialty(slug="acne", name="Acne vulgaris")

    assert first == again
    assert services.ensure_language(code="en", name="English") == (
        services.ensure_language(code="en", name="English")
    )


def test_admin_adds_a_dermatologist_with_specialties_and_types(admin_client):
    user = DermatologistUserFactory()
    acne = services.ensure_specialty(slug="acne", name="Acne")
    data = {
        "user": user.pk,
        "credentials": "MD",
        "licence_number": "LIC-9",
        "specialties": [acne.pk],
        "bio": "",
        "timezone": "Europe/Paris",
        "buffer_minutes": 0,
        "minimum_notice_hours": 12,
        "horizon_days": 60,
        "consultation_types-TOTAL_FORMS": 1,
        "consultation_types-INITIAL_FORMS": 0,
        "consultation_types-0-kind": "video",
        "consultation_types-0-duration_minutes": 30,
        "consultation_types-0-fee": "60.00",
        "consultation_types-0-currency": "EUR",
        "weekly_hours-TOTAL_FORMS": 0,
        "weekly_hours-INITIAL_FORMS": 0,
        "exceptions-TOTAL_FORMS": 0,
        "exceptions-INITIAL_FORMS": 0,
    }

    response = admin_client.post(
        "/admin/consultations/dermatologist/add/", data, follow=True
    )

    assert response.status_code == 200
    profile = Dermatologist.objects.get(user=user)
    assert [s.slug for s in profile.specialties.all()] == ["acne"]
    assert profile.consultation_types.get().fee == Decimal("60.00")
    assert profile.verified_at is None
