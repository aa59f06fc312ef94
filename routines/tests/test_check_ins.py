"""Check-ins: idempotent per step and day, date rules, history."""

from datetime import date

import pytest

from routines.models import CheckIn
from routines.tests.factories import RoutineStepFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def routine(user):
    step = RoutineStepFactory(routine__user=user)
    RoutineStepFactory(routine=step.routine)
    return step.routine


def url(routine) -> str:
    return f"/api/v1/routines/{routine.pk}/check-ins/"


def step_ids(routine) -> list[str]:
    return [str(s.pk) for s in routine.steps.order_by("position")]


def test_check_in_marks_steps_done_today(auth_client, routine):
    response = auth_client.post(url(routine), {"steps": step_ids(routine)})
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 2
    assert CheckIn.objects.filter(routine=routine).count() == 2


def test_check_in_twice_is_idempotent(auth_client, routine):
    auth_client.post(url(routine), {"steps": step_ids(routine)[:1]})
    response = auth_client.post(url(routine), {"steps": step_ids(routine)})
    assert response.status_code == 201
    again = auth_client.post(url(routine), {"steps": step_ids(routine)})
    assert again.status_code == 200
    assert again.json()["created"] == 0
    assert CheckIn.objects.filter(routine=routine).count() == 2


def test_today_is_the_users_local_day(auth_client, routine, user):
    from routines import services

    user.timezone = "Pacific/Kiritimati"  # UTC+14
    user.save(update_fields=["timezone"])
    body = auth_client.post(url(routine), {"steps": step_ids(routine)}).json()
    assert body["date"] == services.local_today(user).isoformat()


def test_future_date_is_refused(auth_client, routine):
    response = auth_client.post(
        url(routine), {"steps": step_ids(routine), "date": "2999-01-01"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "date_in_future"
    assert not CheckIn.objects.exists()


def test_old_date_is_refused(auth_client, routine):
    response = auth_client.post(
        url(routine), {"steps": step_ids(routine), "date": "2001-01-01"}
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["attr"], error["code"]) == ("date", "date_too_old")


def test_step_of_another_routine_is_refused(auth_client, routine, user):
    other = RoutineStepFactory(routine__user=user)
    response = auth_client.post(url(routine), {"steps": [str(other.pk)]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unknown_step"
    assert not CheckIn.objects.exists()


def test_history_is_paginated_newest_first(auth_client, routine):
    from routines.services import check_in, local_today

    today = local_today(routine.user)
    for back in (3, 1):
        check_in(
            routine=routine,
            step_ids=[routine.steps.first().pk],
            day=date.fromordinal(today.toordinal() - back),
        )
    body = auth_client.get(url(routine) + "?page_size=1").json()
    assert body["count"] == 2
    assert body["next"]
    assert (
        body["results"][0]["date"]
        == date.fromordinal(today.toordinal() - 1).isoformat()
    )
