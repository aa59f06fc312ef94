"""POST routines/generate/: recommended routines from an analysis or the profile."""

import pytest

from analysis.models import Analysis
from analysis.tests.factories import concern
from routines.models import Routine
from routines.tests.factories import RoutineFactory

pytestmark = pytest.mark.django_db

GENERATE = "/api/v1/routines/generate/"


def completed_analysis(user, **scores) -> Analysis:
    """A completed analysis built through the ORM, scores shaped as the engine's."""
    return Analysis.objects.create(
        user=user,
        status=Analysis.Status.COMPLETED,
        answers={"after_wash": "shiny_everywhere"},
        skin_type="oily",
        profile={"skin_type": "oily", "sensitive": False, "concerns": []},
        scores={name: concern(score) for name, score in scores.items()},
    )


def test_generate_from_latest_analysis(auth_client, user):
    analysis = completed_analysis(user, blemishes=80, shine=60, lines=20)
    response = auth_client.post(GENERATE, {})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["analysis"] == str(analysis.pk)
    assert body["focus"][0] == "blemishes"
    by_period = {r["period"]: r for r in body["routines"]}
    assert {"am", "pm"} <= set(by_period)
    assert by_period["am"]["steps"][-1]["step_kind"] == "protect"
    for routine in body["routines"]:
        assert routine["has_severe_warning"] is False
        assert routine["source"] == "generated"
        assert all(s["reason"] for s in routine["steps"])


def test_generate_is_deterministic(auth_client, user):
    completed_analysis(user, pigmentation=70, lines=55)

    def shape():
        body = auth_client.post(GENERATE, {}).json()
        return [
            (
                r["period"],
                [(s["product"]["slug"], s["days_of_week"]) for s in r["steps"]],
            )
            for r in body["routines"]
        ]

    assert shape() == shape()


def test_regenerating_replaces_generated_routines_and_keeps_own(auth_client, user):
    completed_analysis(user, blemishes=70)
    own = RoutineFactory(user=user)
    first = auth_client.post(GENERATE, {}).json()
    am = next(r for r in first["routines"] if r["period"] == "am")
    auth_client.patch(f"/api/v1/routines/{am['id']}/", {"reminder_time": "07:15"})
    second = auth_client.post(GENERATE, {}).json()
    assert Routine.objects.filter(user=user, source="generated").count() == len(
        second["routines"]
    )
    assert Routine.objects.filter(pk=own.pk).exists()
    new_am = next(r for r in second["routines"] if r["period"] == "am")
    assert new_am["reminder_time"] == "07:15:00"


def test_pigmentation_score_counts_as_dark_spots(auth_client, user):
    completed_analysis(user, pigmentation=90)
    body = auth_client.post(GENERATE, {}).json()
    assert body["focus"][0] == "dark_spots"


def test_generate_from_a_given_analysis(auth_client, user):
    chosen = completed_analysis(user, lines=90)
    completed_analysis(user, blemishes=90)
    body = auth_client.post(GENERATE, {"analysis": str(chosen.pk)}).json()
    assert body["analysis"] == str(chosen.pk)
    assert body["focus"][0] == "lines"


def test_another_users_analysis_is_refused(auth_client, other_user):
    theirs = completed_analysis(other_user, lines=90)
    response = auth_client.post(GENERATE, {"analysis": str(theirs.pk)})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["attr"], error["code"]) == ("analysis", "analysis_not_usable")
    assert not Routine.objects.exists()


def test_no_analysis_and_no_declared_skin_type_is_400(auth_client):
    response = auth_client.post(GENERATE, {})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "no_analysis"
    assert not Routine.objects.exists()


def test_declared_profile_is_enough(auth_client, user):
    user.declared_skin_type = "dry"
    user.concerns = ["dryness"]
    user.save(update_fields=["declared_skin_type", "concerns"])
    body = auth_client.post(GENERATE, {}).json()
    assert body["analysis"] is None
    assert body["focus"] == ["dryness"]
    am = next(r for r in body["routines"] if r["period"] == "am")
    assert am["steps"][-1]["step_kind"] == "protect"


def test_pregnant_user_gets_no_retinoid(auth_client, user):
    user.pregnant_or_breastfeeding = True
    user.save(update_fields=["pregnant_or_breastfeeding"])
    completed_analysis(user, lines=90)
    body = auth_client.post(GENERATE, {}).json()
    slugs = {s["product"]["slug"] for r in body["routines"] for s in r["steps"]}
    assert not any("retin" in s for s in slugs)
