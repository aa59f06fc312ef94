"""Warnings are computed when their inputs change and stored with the routine.

Reading a list serves the stored warnings; a change of the routines (any of the
user's: warnings cross routines), of the profile or of the catalogue shows at once.
"""

import ast
import threading
from pathlib import Path

import pytest
from django.db import connection

from routines import services
from routines.models import Ingredient, Routine
from routines.tests.factories import (
    IngredientFactory,
    ProductFactory,
    RoutineFactory,
    RoutineStepFactory,
    product,
)

pytestmark = pytest.mark.django_db

ROUTINES = "/api/v1/routines/"
ME = "/api/v1/users/me/"


def step(slug: str) -> dict:
    return {"product": str(product(slug).pk)}


def codes(body) -> set[str]:
    return {w["code"] for w in body["warnings"]}


def listed(client) -> dict[str, set[str]]:
    return {r["name"]: codes(r) for r in client.get(ROUTINES).json()["results"]}


def test_routine_list_serves_stored_warnings_without_checking_the_rules(
    auth_client, user
):
    # given: a routine saved through the service, so its warnings are stored
    auth_client.post(
        ROUTINES,
        {
            "period": "pm",
            "name": "Night",
            "steps": [
                step("norda-retinol-03-serum"),
                step("lumenleaf-glycolic-10-serum"),
            ],
        },
    )
    stored = Routine.objects.get(user=user)
    marker = {**stored.warnings[0], "reason": "as stored"}
    Routine.objects.filter(pk=stored.pk).update(warnings=[marker])
    # when
    body = auth_client.get(ROUTINES).json()
    # then: the stored row is what is answered, nothing recomputed it
    assert body["results"][0]["warnings"] == [marker]


@pytest.mark.parametrize(("count", "queries"), [(1, 3), (20, 3), (21, 4)])
def test_routine_list_costs_three_queries_whatever_the_routines_on_one_page(
    auth_client, user, django_assert_num_queries, count, queries
):
    for _ in range(count):
        routine = RoutineFactory(user=user, period="pm")
        for slug in ("norda-retinol-03-serum", "lumenleaf-glycolic-10-serum"):
            RoutineStepFactory(routine=routine, product=product(slug))
    services.refresh_warnings(user=user)
    # user + page of routines + their steps with products; a COUNT past one page
    with django_assert_num_queries(queries):
        body = auth_client.get(ROUTINES).json()
    assert body["count"] == count
    assert len(body["results"]) == min(count, 20)
    assert (body["next"] is None) == (count <= 20)
    assert all(r["has_severe_warning"] for r in body["results"])


def test_stored_warnings_read_the_same_through_every_renderer(auth_client, user):
    """Written out as stored by the orjson renderer, decoded for an indented body."""
    # given
    night = RoutineFactory(user=user, period="pm", name="Night")
    for slug in ("norda-retinol-03-serum", "lumenleaf-glycolic-10-serum"):
        RoutineStepFactory(routine=night, product=product(slug))
    RoutineFactory(user=user, period="am", name="Plain")
    RoutineFactory(user=user, period="weekly", name="Empty")
    services.refresh_warnings(user=user)
    stored = {r.name: r.warnings for r in Routine.objects.filter(user=user)}
    # when
    compact = auth_client.get(ROUTINES)
    indented = auth_client.get(ROUTINES, HTTP_ACCEPT="application/json; indent=2")
    # then
    assert b"\n  " in indented.content
    assert b"\n" not in compact.content
    for response in (compact, indented):
        results = {r["name"]: r for r in response.json()["results"]}
        assert {name: r["warnings"] for name, r in results.items()} == stored
        assert results["Night"]["has_severe_warning"] is True
        assert results["Plain"]["has_severe_warning"] is False
        assert results["Empty"]["has_severe_warning"] is False
        assert results["Empty"]["warnings"] == []
        assert results["Plain"]["warnings"]  # am_without_spf: a warning, not severe


def test_routine_list_past_one_page_counts_and_links_pages(auth_client, user):
    for n in range(23):
        RoutineFactory(user=user, period="pm", name=f"R{n:02}")
    first = auth_client.get(ROUTINES).json()
    second = auth_client.get(first["next"]).json()
    assert first["count"] == second["count"] == 23
    assert [r["name"] for r in first["results"] + second["results"]] == [
        f"R{n:02}" for n in range(23)
    ]
    assert second["next"] is None


def acid_morning_and_retinoid_night(auth_client) -> dict:
    """Two routines that clash across each other; the night routine as answered."""
    auth_client.post(
        ROUTINES,
        {
            "period": "am",
            "name": "Morning",
            "steps": [step("norda-salicylic-2-clearing-tonic")],
        },
    )
    night = auth_client.post(
        ROUTINES,
        {"period": "pm", "name": "Night", "steps": [step("norda-retinol-03-serum")]},
    ).json()
    return night


def test_cross_routine_warning_leaves_the_other_routine_when_one_is_deleted(
    auth_client,
):
    night = acid_morning_and_retinoid_night(auth_client)
    assert "acid_am_retinoid_pm" in listed(auth_client)["Morning"]
    # when: the other routine goes
    auth_client.delete(f"{ROUTINES}{night['id']}/")
    # then
    assert "acid_am_retinoid_pm" not in listed(auth_client)["Morning"]


def test_cross_routine_warning_leaves_the_other_routine_when_its_steps_change(
    auth_client,
):
    night = acid_morning_and_retinoid_night(auth_client)
    auth_client.patch(
        f"{ROUTINES}{night['id']}/",
        {"steps": [step("halden-ceramide-barrier-cream")]},
    )
    assert "acid_am_retinoid_pm" not in listed(auth_client)["Morning"]


def test_profile_change_through_the_api_stores_new_warnings(auth_client, user):
    auth_client.post(
        ROUTINES,
        {
            "period": "pm",
            "name": "Night",
            "steps": [step("plainformula-niacinamide-10-sebum-serum")],
        },
    )
    # when
    response = auth_client.patch(
        ME, {"sensitivities": ["niacinamide"], "pregnant_or_breastfeeding": True}
    )
    # then: stored at once, before any read of the routines
    assert response.status_code == 200, response.content
    stored = {w["code"] for w in Routine.objects.get(user=user).warnings}
    assert "allergen_present" in stored


def test_accounts_tells_routines_of_profile_changes_only_through_its_signal():
    """accounts imports nothing from routines; routines subscribes to the signal.

    That it reacts: test_profile_change_through_the_api_stores_new_warnings.
    """
    accounts = Path(services.__file__).parents[1] / "accounts"
    imported = set()
    for path in accounts.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
    assert "routines" not in imported


def test_profile_changed_outside_the_api_shows_on_the_next_read(auth_client, user):
    auth_client.post(
        ROUTINES,
        {"period": "pm", "name": "Night", "steps": [step("norda-retinol-03-serum")]},
    )
    # when: staff set the flag in the admin (a plain save)
    user.pregnant_or_breastfeeding = True
    user.save(update_fields=["pregnant_or_breastfeeding"])
    # then
    assert "pregnancy_caution" in listed(auth_client)["Night"]


def test_catalogue_change_shows_in_stored_warnings_on_the_next_read(auth_client, user):
    auth_client.post(
        ROUTINES,
        {
            "period": "pm",
            "name": "Night",
            "steps": [step("plainformula-niacinamide-10-sebum-serum")],
        },
    )
    assert "pregnancy_caution" not in listed(auth_client)["Night"]
    user.pregnant_or_breastfeeding = True
    user.save(update_fields=["pregnant_or_breastfeeding"])
    assert "pregnancy_caution" not in listed(auth_client)["Night"]
    # when: staff mark niacinamide as a pregnancy caution (admin save: signals)
    niacinamide = Ingredient.objects.get(inci="Niacinamide")
    niacinamide.pregnancy_caution = True
    niacinamide.save()
    # then
    assert "pregnancy_caution" in listed(auth_client)["Night"]


def test_rows_written_outside_the_services_get_warnings_on_read(auth_client, user):
    routine = RoutineFactory(user=user, period="pm", name="Imported")
    RoutineStepFactory(routine=routine, product=product("norda-retinol-03-serum"))
    RoutineStepFactory(routine=routine, product=product("lumenleaf-glycolic-10-serum"))
    assert "retinoid_with_acid" in listed(auth_client)["Imported"]
    assert Routine.objects.get(pk=routine.pk).warnings  # and stored


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_of_two_routines_leave_both_cross_warnings(
    requires_postgres, user
):
    """Two writers on the user's routines at once: the last one sees the first."""
    # Own products: an earlier transactional test may have flushed the catalogue
    # that the data migration loaded.
    morning = RoutineFactory(user=user, period="am", name="Morning")
    night = RoutineFactory(user=user, period="pm", name="Night")
    acid = {
        "product": ProductFactory(
            ingredients=[IngredientFactory(functions=["exfoliant_bha"])]
        ).pk
    }
    retinoid = {
        "product": ProductFactory(
            ingredients=[IngredientFactory(functions=["retinoid"])]
        ).pk
    }
    barrier = threading.Barrier(2)
    failures = []

    def change(routine, steps):
        try:
            barrier.wait(timeout=10)
            services.update_routine(routine=routine, data={"steps": [steps]})
        except Exception as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=change, args=(morning, acid)),
        threading.Thread(target=change, args=(night, retinoid)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    for routine in Routine.objects.filter(user=user):
        assert "acid_am_retinoid_pm" in {w["code"] for w in routine.warnings}


def test_routine_deleted_in_the_admin_leaves_the_other_routines_warnings(
    admin_client, user
):
    morning = RoutineFactory(user=user, period="am", name="Morning")
    RoutineStepFactory(
        routine=morning, product=product("norda-salicylic-2-clearing-tonic")
    )
    night = RoutineFactory(user=user, period="pm", name="Night")
    RoutineStepFactory(routine=night, product=product("norda-retinol-03-serum"))
    services.refresh_warnings(user=user)
    # when
    response = admin_client.post(
        f"/admin/routines/routine/{night.pk}/delete/", {"post": "yes"}
    )
    # then: stored at once, not only on the next read
    assert response.status_code == 302
    stored = Routine.objects.get(pk=morning.pk).warnings
    assert "acid_am_retinoid_pm" not in {w["code"] for w in stored}
