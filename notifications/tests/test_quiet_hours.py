from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from notifications.quiet_hours import quiet_until

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("now_utc", "start", "end", "expected_utc"),
    [
        # 23:30 Paris (winter, UTC+1) inside 22:00-07:00: held until 07:00 next day.
        (
            datetime(2026, 1, 10, 22, 30, tzinfo=UTC),
            time(22),
            time(7),
            datetime(2026, 1, 11, 6, tzinfo=UTC),
        ),
        # 03:00 Paris, after midnight, still inside: ends 07:00 the same day.
        (
            datetime(2026, 1, 11, 2, 0, tzinfo=UTC),
            time(22),
            time(7),
            datetime(2026, 1, 11, 6, tzinfo=UTC),
        ),
        # 12:00 Paris is outside.
        (datetime(2026, 1, 11, 11, 0, tzinfo=UTC), time(22), time(7), None),
        # A same-day window 12:00-14:00 at 13:00 Paris.
        (
            datetime(2026, 1, 11, 12, 0, tzinfo=UTC),
            time(12),
            time(14),
            datetime(2026, 1, 11, 13, tzinfo=UTC),
        ),
        # End is exclusive.
        (datetime(2026, 1, 11, 6, 0, tzinfo=UTC), time(22), time(7), None),
        # Start equals end: no window.
        (datetime(2026, 1, 11, 6, 0, tzinfo=UTC), time(7), time(7), None),
    ],
)
def test_quiet_until(now_utc, start, end, expected_utc):
    assert quiet_until(now_utc, PARIS, start, end) == expected_utc


def test_window_across_spring_forward_ends_at_local_wall_clock():
    # 29 March 2026: Paris moves from UTC+1 to UTC+2 at 02:00 local.
    now = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # 00:00 local, UTC+1

    ends = quiet_until(now, PARIS, time(22), time(7))

    assert ends == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)  # 07:00 local, UTC+2
    assert ends.astimezone(PARIS).hour == 7


def test_window_across_fall_back_ends_at_local_wall_clock():
    # 25 October 2026: Paris moves from UTC+2 to UTC+1 at 03:00 local.
    now = datetime(2026, 10, 24, 21, 0, tzinfo=UTC)  # 23:00 local, UTC+2

    ends = quiet_until(now, PARIS, time(22), time(7))

    assert ends == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)  # 07:00 local, UTC+1


def test_end_inside_the_dst_gap_uses_the_offset_before_the_gap():
    now = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)

    ends = quiet_until(now, PARIS, time(22), time(2, 30))

    assert ends == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 summer time


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware"):
        quiet_until(datetime(2026, 1, 1), PARIS, time(22), time(7))
