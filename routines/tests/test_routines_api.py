"""Routines API: CRUD through services, warnings, ordering, scoping, bad input."""

import uuid

import pytest

from routines.models import CheckIn, Routine, RoutineStep
from routines.tests.factories import (
    CheckInFactory,
    RoutineFactory,
    RoutineStepFactory,
    product,
)

pytestmark = pytest.mark.django_db

ROUTINES = "/api/v1/routines/"


def step(slug: str, **extra) -> dict:
    return {"product": str(product(slug).pk), **extra}


def codes(body) -> set[str]:
    return {w["code"] for w in body["warnings"]}


def test_create_routine_orders_steps_by_layering(auth_client, user):
    response = auth_client.post(
        ROUTINES,
        {
            "period": "pm",
            "name": "Night",
            "steps": [
                step("halden-ceramide-barrier-cream"),
                step("halden-gentle-cream-cleanser"),
                {"name": "Gua sha", "step_kind": "treat", "note": "2 minutes"},
            ],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [s["step_kind"] for s in body["steps"]] == ["cleanse", "treat", "moisturise"]
    assert body["steps"][0]["product"]["slug"] == "halden-gentle-cream-cleanser"
    assert body["steps"][1]["product"] is None
    assert Routine.objects.get(pk=body["id"]).user == user


def test_custom_order_keeps_the_users_order(auth_client):
    body = auth_client.post(
        ROUTINES,
        {
            "period": "pm",
            "name": "Mine",
            "custom_order": True,
            "steps": [
                step("halden-ceramide-barrier-cream"),
                step("halden-gentle-cream-cleanser"),
            ],
        },
    ).json()
    assert [s["step_kind"] for s in body["steps"]] == ["moisturise", "cleanse"]
    assert "layering_order" in codes(body)


def test_retinoid_and_aha_in_one_pm_routine_is_severe_but_saved(auth_client):
    response = auth_client.post(
        ROUTINES,
        {
            "period": "pm",
            "name": "Strong night",
            "steps": [
                step("norda-retinol-03-serum"),
                step("lumenleaf-glycolic-10-serum"),
            ],
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["has_severe_warning"] is True
    severe = [w for w in body["warnings"] if w["severity"] == "severe"]
    assert severe[0]["code"] == "retinoid_with_acid"
    assert set(severe[0]["steps"]) == {s["id"] for s in body["steps"]}


def test_alternating_days_clear_the_severe_warning(auth_client):
    body = auth_client.post(
        ROUTINES,
        {
            "period": "pm",
            "name": "Alternating",
            "steps": [
                step("norda-retinol-03-serum", days_of_week=[0, 2, 4]),
                step("lumenleaf-glycolic-10-serum", days_of_week=[1, 5]),
            ],
        },
    ).json()
    assert body["has_severe_warning"] is False
    assert body["steps"][0]["days_of_week"] in ([0, 2, 4], [1, 5])


def test_every_n_days_schedule_is_stored_with_a_start(auth_client):
    body = auth_client.post(
        ROUTINES,
        {
            "period": "weekly",
            "name": "Masks",
            "steps": [step("mirelle-kaolin-clay-mask", every_n_days=3)],
        },
    ).json()
    assert body["steps"][0]["every_n_days"] == 3
    assert body["steps"][0]["start_date"] is not None


def test_cross_routine_warning_appears_on_both_routines(auth_client):
    am = auth_client.post(
        ROUTINES,
        {
            "period": "am",
            "name": "Morning",
            "steps": [
                step("norda-salicylic-2-clearing-tonic"),
                step("mirelle-invisible-fluid-spf50"),
            ],
        },
    ).json()
    auth_client.post(
        ROUTINES,
        {"period": "pm", "name": "Night", "steps": [step("norda-retinol-03-serum")]},
    )
    listed = auth_client.get(ROUTINES).json()["results"]
    assert all("acid_am_retinoid_pm" in codes(r) for r in listed)
    assert "acid_am_retinoid_pm" not in codes(am)  # before the PM routine existed


def test_sensitivities_are_checked_as_allergies(auth_client, user):
    user.sensitivities = ["niacinamide"]
    user.save(update_fields=["sensitivities"])
    body = auth_client.post(
        ROUTINES,
        {
            "period": "pm",
            "name": "Night",
            "steps": [step("plainformula-niacinamide-10-sebum-serum")],
        },
    ).json()
    assert "allergen_present" in codes(body)
    assert body["has_severe_warning"] is True


def test_pregnancy_flags_retinoids(auth_client, user):
    user.pregnant_or_breastfeeding = True
    user.save(update_fields=["pregnant_or_breastfeeding"])
    body = auth_client.post(
        ROUTINES,
        {"period": "pm", "name": "Night", "steps": [step("norda-retinol-03-serum")]},
    ).json()
    assert "pregnancy_caution" in codes(body)


def test_patch_keeps_step_ids_and_history(auth_client):
    created = auth_client.post(
        ROUTINES,
        {
            "period": "pm",
            "name": "Night",
            "steps": [
                step("halden-gentle-cream-cleanser"),
                step("norda-retinol-03-serum"),
            ],
        },
    ).json()
    cleanser, retinol = created["steps"]
    CheckInFactory(step=RoutineStep.objects.get(pk=cleanser["id"]))
    response = auth_client.patch(
        f"{ROUTINES}{created['id']}/",
        {
            "name": "Evening",
            "steps": [{"id": cleanser["id"], "product": cleanser["product"]["id"]}],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Evening"
    assert [s["id"] for s in body["steps"]] == [cleanser["id"]]
    assert CheckIn.objects.filter(step_id=cleanser["id"]).count() == 1
    assert not RoutineStep.objects.filter(pk=retinol["id"]).exists()


def test_put_replaces_the_routine(auth_client):
    created = auth_client.post(
        ROUTINES,
        {
            "period": "pm",
            "name": "Night",
            "reminder_time": "21:30",
            "steps": [step("norda-retinol-03-serum")],
        },
    ).json()
    assert created["reminder_time"] == "21:30:00"
    body = auth_client.put(
        f"{ROUTINES}{created['id']}/", {"period": "am", "name": "Day"}
    ).json()
    assert body["period"] == "am"
    assert body["reminder_time"] is None
    assert body["steps"] == []


def test_delete_routine(auth_client):
    routine = auth_client.post(ROUTINES, {"period": "am", "name": "Day"}).json()
    assert auth_client.delete(f"{ROUTINES}{routine['id']}/").status_code == 204
    assert not Routine.objects.filter(pk=routine["id"]).exists()


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("patch", ""),
        ("put", ""),
        ("delete", ""),
        ("get", "check-ins/"),
        ("post", "check-ins/"),
        ("get", "adherence/"),
    ],
)
def test_another_users_routine_is_404_everywhere(
    auth_client, other_user, method, suffix
):
    theirs = RoutineStepFactory(routine__user=other_user).routine
    body = {"period": "am", "name": "x", "steps": [str(theirs.steps.get().pk)]}
    response = getattr(auth_client, method)(f"{ROUTINES}{theirs.pk}/{suffix}", body)
    assert response.status_code == 404
    assert Routine.objects.get(pk=theirs.pk).name == theirs.name


def test_list_shows_only_own_routines(auth_client, other_user, user):
    RoutineFactory(user=other_user)
    mine = RoutineFactory(user=user)
    results = auth_client.get(ROUTINES).json()["results"]
    assert [r["id"] for r in results] == [str(mine.pk)]


def test_routines_need_authentication(api_client):
    assert api_client.get(ROUTINES).status_code == 401


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        ({"period": "noon", "name": "x"}, "period", "invalid_choice"),
        ({"period": "am"}, "name", "required"),
        (
            {"period": "am", "name": "x", "steps": [{"product": str(uuid.uuid4())}]},
            "steps",
            "unknown_product",
        ),
        (
            {"period": "am", "name": "x", "steps": [{"name": "free"}]},
            "steps.0.step_kind",
            "step_kind_required",
        ),
        (
            {"period": "am", "name": "x", "steps": [{"step_kind": "serum"}]},
            "steps.0.name",
            "name_required",
        ),
        (
            {
                "period": "am",
                "name": "x",
                "steps": [{"name": "a", "step_kind": "serum", "days_of_week": [7]}],
            },
            "steps.0.days_of_week.0",
            "max_value",
        ),
        (
            {
                "period": "am",
                "name": "x",
                "steps": [
                    {
                        "name": "a",
                        "step_kind": "serum",
                        "days_of_week": [1],
                        "every_n_days": 2,
                    }
                ],
            },
            "steps.0.non_field_errors",
            "two_schedules",
        ),
        (
            {
                "period": "am",
                "name": "x",
                "steps": [{"id": str(uuid.uuid4()), "name": "a", "step_kind": "serum"}],
            },
            "steps",
            "unknown_step",
        ),
    ],
)
def test_bad_input_is_400_with_a_stable_code_and_writes_nothing(
    auth_client, payload, attr, code
):
    response = auth_client.post(ROUTINES, payload)
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert (error["attr"], error["code"]) == (attr, code)
    assert not Routine.objects.exists()
    assert not RoutineStep.objects.exists()


def test_too_many_routines(auth_client, user, settings):
    settings.ROUTINES_MAX_PER_USER = 1
    RoutineFactory(user=user)
    response = auth_client.post(ROUTINES, {"period": "am", "name": "x"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "too_many_routines"
