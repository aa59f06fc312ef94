"""send_routine_reminders: once per routine and local day, across zones and DST."""

from datetime import UTC, date, datetime, time

import pytest
from django.core.management import call_command

from notifications.models import Notification
from routines.models import CheckIn, RoutineReminder
from routines.services import reminder_due_at, send_routine_reminders
from routines.tests.factories import RoutineStepFactory

pytestmark = pytest.mark.django_db


def routine_at(user, at: time, tz: str = "Europe/Paris", **step):
    user.timezone = tz
    user.save(update_fields=["timezone"])
    return RoutineStepFactory(
        routine__user=user, routine__reminder_time=at, **step
    ).routine


def reminders(user) -> int:
    return Notification.objects.filter(recipient=user, kind="routine_reminder").count()


def test_reminder_fires_once_its_local_time_has_passed(user):
    routine = routine_at(user, time(21, 0))  # Paris, UTC+1 in January
    assert (
        send_routine_reminders(now=datetime(2025, 1, 10, 19, 59, tzinfo=UTC)).sent == 0
    )
    assert (
        send_routine_reminders(now=datetime(2025, 1, 10, 20, 0, tzinfo=UTC)).sent == 1
    )
    notification = Notification.objects.get(recipient=user)
    assert notification.idempotency_key == f"routine-reminder:{routine.pk}:2025-01-10"
    assert notification.data["steps_count"] == 1
    assert notification.data["period"] == routine.period  # the push title says it


def test_running_twice_notifies_once(user):
    routine_at(user, time(7, 30))
    now = datetime(2025, 1, 10, 7, 0, tzinfo=UTC)
    first = send_routine_reminders(now=now)
    second = send_routine_reminders(now=now)
    assert (first.sent, second.sent, second.already_sent) == (1, 0, 1)
    assert reminders(user) == 1
    assert RoutineReminder.objects.count() == 1


def test_a_row_left_by_an_overlapping_run_stops_the_second_notification(user):
    routine = routine_at(user, time(7, 30))
    now = datetime(2025, 1, 10, 7, 0, tzinfo=UTC)
    RoutineReminder.objects.create(
        routine=routine, local_date=date(2025, 1, 10), sent_at=now
    )
    assert send_routine_reminders(now=now).sent == 0
    assert reminders(user) == 0


def test_users_in_different_zones_are_reminded_at_their_own_time(user, other_user):
    routine_at(user, time(8, 0), "Asia/Tokyo")  # 23:00 UTC the day before
    routine_at(other_user, time(8, 0), "America/New_York")  # 13:00 UTC
    send_routine_reminders(now=datetime(2025, 1, 9, 23, 5, tzinfo=UTC))
    assert (reminders(user), reminders(other_user)) == (1, 0)
    send_routine_reminders(now=datetime(2025, 1, 10, 13, 5, tzinfo=UTC))
    assert (reminders(user), reminders(other_user)) == (1, 1)
    assert set(RoutineReminder.objects.values_list("local_date", flat=True)) == {
        date(2025, 1, 10)
    }


def test_no_reminder_after_checking_in_today(user):
    routine = routine_at(user, time(7, 30))
    step = routine.steps.get()
    CheckIn.objects.create(routine=routine, step=step, date=date(2025, 1, 10))
    summary = send_routine_reminders(now=datetime(2025, 1, 10, 7, 0, tzinfo=UTC))
    assert (summary.sent, summary.checked_in) == (0, 1)


def test_no_reminder_on_a_day_without_scheduled_steps(user):
    routine_at(user, time(7, 30), weekdays=0b1000000)  # Sundays; 2025-01-10 is Fri
    summary = send_routine_reminders(now=datetime(2025, 1, 10, 7, 0, tzinfo=UTC))
    assert (summary.sent, summary.nothing_scheduled) == (0, 1)


def test_a_reminder_long_past_waits_for_the_next_day(user, settings):
    settings.ROUTINES_REMINDER_GRACE_MINUTES = 60
    routine_at(user, time(7, 0))
    assert (
        send_routine_reminders(now=datetime(2025, 1, 10, 20, 0, tzinfo=UTC)).sent == 0
    )


def test_time_skipped_by_spring_forward_fires_once(user):
    """02:30 does not exist in Paris on 2025-03-30; it fires once, at 03:30 CEST."""
    routine_at(user, time(2, 30))
    due = reminder_due_at(date(2025, 3, 30), time(2, 30), user.zoneinfo)
    assert due == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    sent = [
        send_routine_reminders(now=datetime(2025, 3, 30, 0, m, tzinfo=UTC)).sent
        for m in (55, 59)
    ] + [
        send_routine_reminders(now=datetime(2025, 3, 30, h, m, tzinfo=UTC)).sent
        for h, m in ((1, 0), (1, 30), (1, 35), (2, 0), (3, 0))
    ]
    assert sent == [0, 0, 0, 1, 0, 0, 0]
    assert reminders(user) == 1


def test_ambiguous_time_on_fall_back_fires_once(user):
    """02:30 happens twice in Paris on 2025-10-26; only the first one reminds."""
    routine_at(user, time(2, 30))
    sent = [
        send_routine_reminders(now=datetime(2025, 10, 26, h, m, tzinfo=UTC)).sent
        for h, m in ((0, 25), (0, 30), (0, 45), (1, 30), (1, 35), (4, 0))
    ]
    assert sent == [0, 1, 0, 0, 0, 0]
    assert reminders(user) == 1


def test_deleted_users_are_not_reminded(user):
    routine_at(user, time(7, 30))
    user.is_active = False
    user.deleted_at = datetime(2025, 1, 1, tzinfo=UTC)
    user.save(update_fields=["is_active", "deleted_at"])
    assert send_routine_reminders(now=datetime(2025, 1, 10, 7, 0, tzinfo=UTC)).sent == 0


def test_command_dry_run_sends_nothing_and_prints_a_summary(user, capsys):
    routine_at(user, time(0, 0), "Etc/GMT+12")
    call_command("send_routine_reminders", "--dry-run")
    out = capsys.readouterr().out
    assert out.startswith("[dry run] due=")
    assert reminders(user) == 0
    assert not RoutineReminder.objects.exists()


def test_command_sends(user, capsys):
    from django.utils import timezone

    local = timezone.now().astimezone(user.zoneinfo)
    minute = max(local.minute - 1, 0)
    routine_at(user, time(local.hour, minute), user.timezone)
    call_command("send_routine_reminders")
    assert "sent=1" in capsys.readouterr().out
    assert reminders(user) == 1
