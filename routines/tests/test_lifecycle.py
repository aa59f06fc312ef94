"""Export and erasure of a user's routines data (accounts.lifecycle hooks)."""

import json

import pytest

from accounts.lifecycle import build_user_export
from routines.models import CheckIn, Routine, RoutineReminder, RoutineStep
from routines.services import erase_user_data, export_user_data
from routines.tests.factories import CheckInFactory, RoutineStepFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(user, other_user):
    mine = CheckInFactory(step__routine__user=user)
    RoutineReminder.objects.create(
        routine=mine.routine, local_date=mine.date, sent_at="2024-01-01T08:00:00Z"
    )
    CheckInFactory(step__routine__user=other_user)
    return mine


def test_export_has_every_model_with_only_the_users_rows(user, data):
    exported = export_user_data(user=user)
    assert set(exported) == {
        "routines.Routine",
        "routines.RoutineStep",
        "routines.CheckIn",
        "routines.RoutineReminder",
    }
    assert [r["id"] for r in exported["routines.Routine"]] == [str(data.routine.pk)]
    assert len(exported["routines.CheckIn"]) == 1
    assert len(exported["routines.RoutineReminder"]) == 1
    json.dumps(exported)


def test_export_is_part_of_the_account_export(user, data):
    assert "routines.RoutineStep" in build_user_export(user=user)["data"]


def test_erase_removes_only_the_users_data(user, other_user, data):
    RoutineStepFactory(routine__user=user)
    erase_user_data(user=user)
    assert not Routine.objects.filter(user=user).exists()
    assert not RoutineStep.objects.filter(routine__user=user).exists()
    assert not CheckIn.objects.filter(routine__user=user).exists()
    assert not RoutineReminder.objects.exists()
    assert Routine.objects.filter(user=other_user).count() == 1
