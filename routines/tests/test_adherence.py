"""Adherence computed in SQL: completion rate and streaks over scheduled days."""

from datetime import date, timedelta

import pytest

from routines.models import CheckIn
from routines.selectors import adherence
from routines.tests.factories import RoutineFactory, RoutineStepFactory

pytestmark = pytest.mark.django_db

# A Sunday; the window below covers Mon 2024-01-01 .. Sun 2024-01-14.
END = date(2024, 1, 14)


def done(step, *days: int) -> None:
    """Check the step in on the given days of January 2024."""
    for day in days:
        CheckIn.objects.create(routine=step.routine, step=step, date=date(2024, 1, day))


def test_daily_step_streaks_with_a_gap():
    step = RoutineStepFactory()
    done(step, 1, 2, 3, 4, 6, 7, 8, 13, 14)
    result = adherence(routine=step.routine, end=END, days=14)
    assert result.scheduled_days == 14
    assert result.completed_days == 9
    assert result.completion_rate == pytest.approx(9 / 14, abs=1e-4)
    assert result.longest_streak == 4
    assert result.current_streak == 2


def test_unscheduled_days_neither_count_nor_break_streaks():
    routine = RoutineFactory()
    mwf = 0b10101  # Mon, Wed, Fri
    step = RoutineStepFactory(routine=routine, weekdays=mwf)
    done(step, 1, 3, 5, 8, 10)  # every scheduled day but Fri 12
    result = adherence(routine=routine, end=END, days=14)
    assert result.scheduled_days == 6
    assert result.completed_steps == 5
    assert result.longest_streak == 5
    assert result.current_streak == 0  # Fri 12 missed; Sat, Sun not scheduled


def test_a_day_counts_as_completed_only_with_every_scheduled_step():
    routine = RoutineFactory()
    daily = RoutineStepFactory(routine=routine)
    mondays = RoutineStepFactory(routine=routine, weekdays=0b1)
    done(daily, *range(1, 15))
    done(mondays, 1)  # missed Monday 8th
    result = adherence(routine=routine, end=END, days=14)
    assert result.scheduled_steps == 16
    assert result.completed_steps == 15
    assert result.completed_days == 13
    assert result.longest_streak == 7  # 1st-7th
    assert result.current_streak == 6  # 9th-14th


def test_every_n_days_schedule_from_its_start_date():
    routine = RoutineFactory()
    step = RoutineStepFactory(
        routine=routine, every_n_days=3, start_date=date(2024, 1, 2)
    )
    done(step, 2, 5, 8, 11, 14)
    result = adherence(routine=routine, end=END, days=14)
    assert result.scheduled_days == 5
    assert result.completion_rate == 1.0
    assert result.current_streak == result.longest_streak == 5


def test_days_before_a_step_existed_are_not_scheduled():
    step = RoutineStepFactory(active_from=date(2024, 1, 10))
    done(step, 10, 11, 12, 13, 14)
    result = adherence(routine=step.routine, end=END, days=14)
    assert result.scheduled_days == 5
    assert result.completion_rate == 1.0


def test_today_not_yet_done_does_not_break_the_current_streak():
    step = RoutineStepFactory()
    done(step, 11, 12, 13)
    result = adherence(routine=step.routine, end=END, days=14)
    assert result.current_streak == 3
    done(step, 14)
    assert adherence(routine=step.routine, end=END, days=14).current_streak == 4


def test_check_ins_outside_the_schedule_do_not_count():
    step = RoutineStepFactory(weekdays=0b1)  # Mondays
    done(step, 1, 2, 3)
    result = adherence(routine=step.routine, end=date(2024, 1, 7), days=7)
    assert (result.scheduled_steps, result.completed_steps) == (1, 1)


def test_no_schedule_at_all_gives_zeros():
    result = adherence(routine=RoutineFactory(), end=END, days=30)
    assert result.completion_rate == 0.0
    assert result.current_streak == result.longest_streak == 0


def test_adherence_endpoint(auth_client, user):
    from routines.services import local_today

    step = RoutineStepFactory(routine__user=user)
    today = local_today(user)
    for back in range(3):
        CheckIn.objects.create(
            routine=step.routine, step=step, date=today - timedelta(days=back)
        )
    response = auth_client.get(f"/api/v1/routines/{step.routine.pk}/adherence/?days=10")
    assert response.status_code == 200
    body = response.json()
    assert body["days"] == 10
    assert body["current_streak"] == 3
    assert body["completed_steps"] == 3


def test_adherence_days_out_of_range_is_400(auth_client, user):
    routine = RoutineFactory(user=user)
    response = auth_client.get(f"/api/v1/routines/{routine.pk}/adherence/?days=0")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "days"
