"""Tests for the pure slot arithmetic in consultations.slots."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from consultations.slots import (
    MAX_WINDOW_DAYS,
    Availability,
    AvailabilityException,
    free_slots,
    is_free_slot,
)

PARIS = "Europe/Paris"
NEW_YORK = "America/New_York"
MONDAY = date(2024, 6, 3)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
NINE_TO_FIVE = [(time(9), time(17))]
WEEKDAYS = {day: NINE_TO_FIVE for day in range(5)}


def t(text: str) -> time:
    """Parse HH:MM."""
    return time.fromisoformat(text)


def at(zone: str, day: date, hhmm: str) -> datetime:
    """Return an aware local datetime."""
    return datetime.combine(day, t(hhmm), ZoneInfo(zone))


def make(zone: str = PARIS, weekly=None, **kwargs) -> Availability:
    """Build an Availability, weekdays 09:00-17:00 unless told otherwise."""
    return Availability(
        timezone=zone, weekly=WEEKDAYS if weekly is None else weekly, **kwargs
    )


def day_slots(
    availability: Availability,
    day: date,
    duration: timedelta = HOUR,
    *,
    bookings: Sequence[tuple[datetime, datetime]] = (),
    now: datetime | None = None,
    step: timedelta | None = None,
) -> list[datetime]:
    """Return the free slots of one local day of the dermatologist."""
    tz = ZoneInfo(availability.timezone)
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return free_slots(
        availability=availability,
        window_start=start,
        window_end=end,
        duration=duration,
        bookings=bookings,
        now=start - timedelta(days=7) if now is None else now,
        step=step,
    )


def local(slots: Sequence[datetime], zone: str) -> list[str]:
    """Render slots as local HH:MM."""
    return [s.astimezone(ZoneInfo(zone)).strftime("%H:%M") for s in slots]


def local_with_offset(slots: Sequence[datetime], zone: str) -> list[str]:
    """Render slots as local HH:MM+offset, to tell repeated wall-clock times apart."""
    return [s.astimezone(ZoneInfo(zone)).strftime("%H:%M%z") for s in slots]


# --- basic grids -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ranges", "duration", "step", "expected"),
    [
        pytest.param(
            [("09:00", "12:00")], 60, None, ["09:00", "10:00", "11:00"], id="hourly"
        ),
        pytest.param(
            [("09:00", "11:00")],
            30,
            None,
            ["09:00", "09:30", "10:00", "10:30"],
            id="half-hourly",
        ),
        pytest.param(
            [("09:00", "11:00")],
            60,
            timedelta(minutes=30),
            ["09:00", "09:30", "10:00"],
            id="granularity-finer-than-duration",
        ),
        pytest.param(
            [("09:00", "10:50")], 45, None, ["09:00", "09:45"], id="leftover-unused"
        ),
        pytest.param(
            [("09:00", "11:00"), ("14:00", "16:00")],
            60,
            None,
            ["09:00", "10:00", "14:00", "15:00"],
            id="two-ranges",
        ),
        pytest.param(
            [("14:10", "15:30"), ("09:00", "10:00")],
            40,
            None,
            ["09:00", "14:10", "14:50"],
            id="unsorted-ranges-each-anchor-own-grid",
        ),
        pytest.param(
            [("09:00", "10:30"), ("10:30", "12:00")],
            60,
            None,
            ["09:00", "10:00", "11:00"],
            id="touching-ranges-merge",
        ),
        pytest.param(
            [("09:00", "10:30"), ("10:30", "12:00")],
            60,
            timedelta(minutes=30),
            ["09:00", "09:30", "10:00", "10:30", "11:00"],
            id="slot-may-cross-touching-ranges",
        ),
        pytest.param(
            [("09:00", "11:00"), ("10:00", "12:30")],
            60,
            None,
            ["09:00", "10:00", "11:00"],
            id="overlapping-ranges-merge-to-first-anchor",
        ),
        pytest.param([("09:00", "09:20")], 30, None, [], id="range-too-short"),
    ],
)
def test_monday_grid(ranges, duration, step, expected):
    """A day's slots follow each range's grid and fit inside working time."""
    availability = make(weekly={0: [(t(a), t(b)) for a, b in ranges]})

    slots = day_slots(availability, MONDAY, timedelta(minutes=duration), step=step)

    assert local(slots, PARIS) == expected


def test_basic_day_returns_utc_instants():
    """A summer Paris 09:00-17:00 day gives 16 half-hour slots from 07:00 UTC."""
    slots = day_slots(make(), MONDAY, timedelta(minutes=30))

    assert len(slots) == 16
    assert slots[0] == datetime(2024, 6, 3, 7, 0, tzinfo=UTC)
    assert slots[-1] == datetime(2024, 6, 3, 14, 30, tzinfo=UTC)
    assert all(s.tzinfo is UTC for s in slots)


def test_day_without_hours_has_no_slots():
    """A Sunday with no weekly hours and no extra hours is empty."""
    assert day_slots(make(), date(2024, 6, 9)) == []


def test_range_ending_at_midnight_joins_next_day():
    """An evening range ending 00:00 and a range from 00:00 form one working stretch."""
    availability = make(
        weekly={0: [(t("22:00"), time(0))], 1: [(time(0), t("02:00"))]},
    )
    tz = ZoneInfo(PARIS)

    slots = free_slots(
        availability=availability,
        window_start=at(PARIS, MONDAY, "22:00"),
        window_end=at(PARIS, MONDAY + timedelta(days=1), "03:00"),
        duration=HOUR,
        bookings=[],
        now=at(PARIS, MONDAY, "08:00"),
        step=timedelta(minutes=30),
    )

    assert [s.astimezone(tz).strftime("%a %H:%M") for s in slots] == [
        "Mon 22:00",
        "Mon 22:30",
        "Mon 23:00",
        "Mon 23:30",
        "Tue 00:00",
        "Tue 00:30",
        "Tue 01:00",
    ]


# --- buffers and bookings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("buffer", "booking", "expected"),
    [
        pytest.param(
            0,
            ("10:00", "11:00"),
            ["09:00", "09:30", "11:00", "11:30"],
            id="touching-is-fine",
        ),
        pytest.param(
            15,
            ("10:00", "10:30"),
            ["09:00", "11:00", "11:30"],
            id="buffer-both-sides",
        ),
        pytest.param(
            30,
            ("10:00", "10:30"),
            ["09:00", "11:00", "11:30"],
            id="buffer-exactly-fits",
        ),
        pytest.param(
            31,
            ("10:00", "10:30"),
            ["11:30"],
            id="buffer-one-minute-too-long",
        ),
        pytest.param(
            0,
            ("08:00", "13:00"),
            [],
            id="booking-covers-day",
        ),
    ],
)
def test_bookings_remove_buffered_slots(buffer, booking, expected):
    """A booking blocks [start - buffer, end + buffer) for new slots."""
    availability = make(
        weekly={0: [(t("09:00"), t("12:00"))]}, buffer=timedelta(minutes=buffer)
    )
    booked = (at(PARIS, MONDAY, booking[0]), at(PARIS, MONDAY, booking[1]))

    slots = day_slots(availability, MONDAY, timedelta(minutes=30), bookings=[booked])

    assert local(slots, PARIS) == expected


def test_bookings_in_any_zone_are_compared_as_instants():
    """A booking given in New York time blocks the same instant in Paris."""
    availability = make(weekly={0: [(t("09:00"), t("12:00"))]})
    # 04:00 in New York (EDT) is 10:00 in Paris (CEST).
    booked = (at(NEW_YORK, MONDAY, "04:00"), at(NEW_YORK, MONDAY, "05:00"))

    slots = day_slots(availability, MONDAY, bookings=[booked])

    assert local(slots, PARIS) == ["09:00", "11:00"]


def test_buffer_does_not_pad_working_hours():
    """The buffer only surrounds bookings, not the edges of working hours."""
    availability = make(buffer=timedelta(minutes=15))

    slots = day_slots(availability, MONDAY)

    assert local(slots, PARIS)[0] == "09:00"
    assert local(slots, PARIS)[-1] == "16:00"


# --- notice, horizon and window ----------------------------------------------------


def test_minimum_notice_closes_near_slots():
    """Slots starting before now + minimum notice are not offered."""
    availability = make(minimum_notice=timedelta(minutes=60))

    slots = day_slots(
        availability,
        MONDAY,
        timedelta(minutes=30),
        now=at(PARIS, MONDAY, "09:40"),
    )

    assert local(slots, PARIS)[:2] == ["11:00", "11:30"]


def test_minimum_notice_boundary_is_inclusive():
    """A slot exactly at now + minimum notice is offered."""
    availability = make(minimum_notice=timedelta(minutes=60))

    slots = day_slots(availability, MONDAY, now=at(PARIS, MONDAY, "09:00"))

    assert local(slots, PARIS)[0] == "10:00"


def test_horizon_limits_how_far_ahead():
    """Slots starting after now + horizon are not offered; the boundary is inclusive."""
    availability = make(horizon=timedelta(days=2))
    now = at(PARIS, MONDAY, "10:00")

    slots = free_slots(
        availability=availability,
        window_start=now,
        window_end=now + timedelta(days=7),
        duration=HOUR,
        bookings=[],
        now=now,
    )

    tz = ZoneInfo(PARIS)
    days = [s.astimezone(tz).strftime("%a %H:%M") for s in slots]
    assert days[0] == "Mon 10:00"
    assert days[-1] == "Wed 10:00"
    assert len(days) == 7 + 8 + 2


def test_window_is_half_open_and_partitions():
    """Consecutive windows split the slots exactly; window_end itself is excluded."""
    availability = make()
    start, middle, end = (
        at(PARIS, MONDAY, "00:00"),
        at(PARIS, MONDAY, "12:00"),
        at(PARIS, MONDAY + timedelta(days=2), "00:00"),
    )
    now = start - timedelta(days=1)

    def search(a, b):
        return free_slots(
            availability=availability,
            window_start=a,
            window_end=b,
            duration=HOUR,
            bookings=[],
            now=now,
        )

    morning, rest = search(start, middle), search(middle, end)

    assert local(morning, PARIS) == ["09:00", "10:00", "11:00"]
    assert morning + rest == search(start, end)


def test_window_of_max_days_is_accepted_and_longer_is_refused():
    """A 31-day window works; 31 days and a microsecond raises ValueError."""
    start = at(PARIS, MONDAY, "00:00")
    common = {
        "availability": make(),
        "window_start": start,
        "duration": HOUR,
        "bookings": [],
        "now": start,
    }

    slots = free_slots(window_end=start + timedelta(days=MAX_WINDOW_DAYS), **common)
    assert len(slots) == 8 * 23  # June 3 to July 3 2024: 23 weekdays

    with pytest.raises(ValueError, match="31 days"):
        free_slots(
            window_end=start + timedelta(days=MAX_WINDOW_DAYS, microseconds=1), **common
        )


# --- exceptions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exceptions", "expected"),
    [
        pytest.param(
            [("off", "10:00", "12:00"), ("off", "11:00", "14:00")],
            ["09:00", "14:00", "15:00", "16:00"],
            id="overlapping-time-off",
        ),
        pytest.param(
            [("off", "11:00", "14:00"), ("off", "10:00", "12:00")],
            ["09:00", "14:00", "15:00", "16:00"],
            id="overlapping-time-off-unsorted",
        ),
        pytest.param(
            [("off", "12:30", "13:00")],
            ["09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00"],
            id="time-off-keeps-grid",
        ),
        pytest.param(
            [("extra", "17:00", "19:00")],
            [
                "09:00",
                "10:00",
                "11:00",
                "12:00",
                "13:00",
                "14:00",
                "15:00",
                "16:00",
                "17:00",
                "18:00",
            ],
            id="extra-hours-extend-day",
        ),
        pytest.param(
            [("extra", "16:30", "18:00")],
            [
                "09:00",
                "10:00",
                "11:00",
                "12:00",
                "13:00",
                "14:00",
                "15:00",
                "16:00",
                "17:00",
            ],
            id="extra-hours-overlapping-weekly-merge",
        ),
        pytest.param(
            [("extra", "17:00", "20:00"), ("off", "16:00", "18:00")],
            [
                "09:00",
                "10:00",
                "11:00",
                "12:00",
                "13:00",
                "14:00",
                "15:00",
                "18:00",
                "19:00",
            ],
            id="time-off-wins-over-extra-hours",
        ),
    ],
)
def test_monday_exceptions(exceptions, expected):
    """Working time is weekly hours plus extra hours minus time off."""
    availability = make(
        exceptions=[
            AvailabilityException(
                kind, datetime.combine(MONDAY, t(a)), datetime.combine(MONDAY, t(b))
            )
            for kind, a, b in exceptions
        ]
    )

    assert local(day_slots(availability, MONDAY), PARIS) == expected


def test_extra_hours_on_a_day_off():
    """Extra hours on a Saturday without weekly hours open slots that day only."""
    saturday = date(2024, 6, 8)
    availability = make(
        exceptions=[AvailabilityException.extra_hours(saturday, t("10:00"), t("12:00"))]
    )

    assert local(day_slots(availability, saturday), PARIS) == ["10:00", "11:00"]
    assert day_slots(availability, saturday + timedelta(days=7)) == []


def test_extra_hours_cut_by_time_off_on_a_day_off():
    """Time off inside extra hours on a day off splits them."""
    saturday = date(2024, 6, 8)
    availability = make(
        exceptions=[
            AvailabilityException.extra_hours(saturday, t("09:00"), t("13:00")),
            AvailabilityException.time_off(
                datetime(2024, 6, 8, 11, 0), datetime(2024, 6, 8, 12, 0)
            ),
        ]
    )

    assert local(day_slots(availability, saturday), PARIS) == [
        "09:00",
        "10:00",
        "12:00",
    ]


def test_days_off_cover_whole_dates_inclusive():
    """Days off from Monday to Tuesday leave Wednesday untouched."""
    availability = make(
        exceptions=[AvailabilityException.days_off(MONDAY, MONDAY + timedelta(days=1))]
    )

    assert day_slots(availability, MONDAY) == []
    assert day_slots(availability, MONDAY + timedelta(days=1)) == []
    assert len(day_slots(availability, MONDAY + timedelta(days=2))) == 8


def test_time_off_spanning_midnight():
    """Time off from Monday 15:00 to Tuesday 11:00 clips both days."""
    availability = make(
        exceptions=[
            AvailabilityException.time_off(
                datetime(2024, 6, 3, 15, 0), datetime(2024, 6, 4, 11, 0)
            )
        ]
    )

    assert local(day_slots(availability, MONDAY), PARIS)[-1] == "14:00"
    assert (
        local(day_slots(availability, MONDAY + timedelta(days=1)), PARIS)[0] == "11:00"
    )


# --- DST ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "ranges", "expected"),
    [
        pytest.param(
            PARIS,
            date(2024, 3, 31),
            [("09:00", "17:00")],
            [
                "09:00+0200",
                "10:00+0200",
                "11:00+0200",
                "12:00+0200",
                "13:00+0200",
                "14:00+0200",
                "15:00+0200",
                "16:00+0200",
            ],
            id="paris-spring-office-hours",
        ),
        pytest.param(
            PARIS,
            date(2024, 3, 31),
            [("01:00", "05:00")],
            ["01:00+0100", "03:00+0200", "04:00+0200"],
            id="paris-spring-range-over-gap-is-3h",
        ),
        pytest.param(
            PARIS,
            date(2024, 3, 31),
            [("02:30", "04:00")],
            ["03:00+0200"],
            id="paris-spring-start-in-gap-moves-to-gap-end",
        ),
        pytest.param(
            PARIS,
            date(2024, 3, 31),
            [("02:00", "02:45")],
            [],
            id="paris-spring-range-inside-gap-vanishes",
        ),
        pytest.param(
            PARIS,
            date(2024, 10, 27),
            [("09:00", "17:00")],
            [
                "09:00+0100",
                "10:00+0100",
                "11:00+0100",
                "12:00+0100",
                "13:00+0100",
                "14:00+0100",
                "15:00+0100",
                "16:00+0100",
            ],
            id="paris-fall-office-hours",
        ),
        pytest.param(
            PARIS,
            date(2024, 10, 27),
            [("01:00", "05:00")],
            ["01:00+0200", "02:00+0200", "02:00+0100", "03:00+0100", "04:00+0100"],
            id="paris-fall-range-over-overlap-is-5h",
        ),
        pytest.param(
            PARIS,
            date(2024, 10, 27),
            [("02:30", "04:00")],
            ["02:30+0200", "02:30+0100"],
            id="paris-fall-ambiguous-start-takes-first-occurrence",
        ),
        pytest.param(
            NEW_YORK,
            date(2024, 3, 10),
            [("09:00", "17:00")],
            [
                "09:00-0400",
                "10:00-0400",
                "11:00-0400",
                "12:00-0400",
                "13:00-0400",
                "14:00-0400",
                "15:00-0400",
                "16:00-0400",
            ],
            id="new-york-spring-office-hours",
        ),
        pytest.param(
            NEW_YORK,
            date(2024, 3, 10),
            [("00:00", "04:00")],
            ["00:00-0500", "01:00-0500", "03:00-0400"],
            id="new-york-spring-range-over-gap-is-3h",
        ),
        pytest.param(
            NEW_YORK,
            date(2024, 11, 3),
            [("00:00", "03:00")],
            ["00:00-0400", "01:00-0400", "01:00-0500", "02:00-0500"],
            id="new-york-fall-range-over-overlap-is-4h",
        ),
        pytest.param(
            NEW_YORK,
            date(2024, 11, 3),
            [("09:00", "17:00")],
            [
                "09:00-0500",
                "10:00-0500",
                "11:00-0500",
                "12:00-0500",
                "13:00-0500",
                "14:00-0500",
                "15:00-0500",
                "16:00-0500",
            ],
            id="new-york-fall-office-hours",
        ),
    ],
)
def test_dst_days_keep_wall_clock_hours(zone, day, ranges, expected):
    """Ranges are wall-clock times: DST changes the real length, not the clock."""
    availability = make(zone, weekly={6: [(t(a), t(b)) for a, b in ranges]})

    slots = day_slots(availability, day, HOUR)

    assert local_with_offset(slots, zone) == expected


def test_spring_forward_half_hour_grid_skips_missing_times():
    """On the Paris spring-forward night no slot lands on a nonexistent time."""
    availability = make(weekly={6: [(t("01:00"), t("04:00"))]})

    slots = day_slots(availability, date(2024, 3, 31), timedelta(minutes=30))

    assert local_with_offset(slots, PARIS) == [
        "01:00+0100",
        "01:30+0100",
        "03:00+0200",
        "03:30+0200",
    ]


def test_week_across_dst_keeps_every_day_at_nine_local():
    """Across the New York spring change every weekday starts at 09:00 local."""
    availability = make(NEW_YORK)
    start = at(NEW_YORK, date(2024, 3, 4), "00:00")

    slots = free_slots(
        availability=availability,
        window_start=start,
        window_end=start + timedelta(days=14),
        duration=HOUR,
        bookings=[],
        now=start,
    )

    assert len(slots) == 10 * 8
    assert {s for s in local(slots, NEW_YORK)} == {f"{h:02d}:00" for h in range(9, 17)}
    assert {s.hour for s in slots if s.day < 10} == set(range(14, 22))  # EST, UTC-5
    assert {s.hour for s in slots if s.day > 10} == set(range(13, 21))  # EDT, UTC-4


# --- patients in other zones -------------------------------------------------------


def test_patient_in_tokyo_sees_the_same_instants():
    """A window given in Tokyo time returns the same UTC slots as in UTC."""
    availability = make()
    tokyo = ZoneInfo("Asia/Tokyo")
    start_utc = datetime(2024, 6, 2, 22, 0, tzinfo=UTC)  # Monday 00:00 in Paris
    now = start_utc - timedelta(days=1)

    def search(start):
        return free_slots(
            availability=availability,
            window_start=start,
            window_end=start + timedelta(days=1),
            duration=HOUR,
            bookings=[],
            now=now.astimezone(start.tzinfo),
        )

    in_utc, in_tokyo = search(start_utc), search(start_utc.astimezone(tokyo))

    assert in_utc == in_tokyo
    assert all(s.tzinfo is UTC for s in in_tokyo)
    # 09:00 CEST is 16:00 JST: the patient's calendar shows the afternoon.
    assert [s.astimezone(tokyo).strftime("%H:%M") for s in in_tokyo[:2]] == [
        "16:00",
        "17:00",
    ]


# --- is_free_slot ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hhmm", "expected"),
    [
        pytest.param("09:00", True, id="first-slot"),
        pytest.param("16:30", True, id="last-slot"),
        pytest.param("17:00", False, id="ends-after-hours"),
        pytest.param("09:10", False, id="off-grid"),
        pytest.param("08:30", False, id="before-hours"),
        pytest.param("10:00", False, id="inside-buffered-booking"),
        pytest.param("10:30", False, id="inside-buffer-after-booking"),
        pytest.param("11:00", True, id="after-buffer"),
    ],
)
def test_is_free_slot(hhmm, expected):
    """A start is free exactly when free_slots would offer it."""
    availability = make(buffer=timedelta(minutes=15))
    booked = [(at(PARIS, MONDAY, "10:00"), at(PARIS, MONDAY, "10:45"))]
    start = at(PARIS, MONDAY, hhmm)
    now = at(PARIS, MONDAY, "07:00")

    free = is_free_slot(
        availability=availability,
        start=start,
        duration=timedelta(minutes=30),
        bookings=booked,
        now=now,
    )

    assert free is expected
    assert (
        start
        in day_slots(
            availability, MONDAY, timedelta(minutes=30), bookings=booked, now=now
        )
    ) is expected


def test_is_free_slot_refuses_before_notice_and_after_horizon():
    """Notice and horizon apply to single starts too."""
    availability = make(minimum_notice=HOUR, horizon=timedelta(days=1))
    now = at(PARIS, MONDAY, "09:30")

    def free(start):
        return is_free_slot(
            availability=availability, start=start, duration=HOUR, bookings=[], now=now
        )

    assert not free(at(PARIS, MONDAY, "10:00"))
    assert free(at(PARIS, MONDAY, "11:00"))
    assert free(at(PARIS, MONDAY + timedelta(days=1), "09:00"))
    assert not free(at(PARIS, MONDAY + timedelta(days=1), "10:00"))


# --- validation --------------------------------------------------------------------

NAIVE = datetime(2024, 6, 3, 9, 0)
AWARE = at(PARIS, MONDAY, "09:00")


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"window_start": NAIVE}, id="window-start"),
        pytest.param({"window_end": NAIVE + HOUR}, id="window-end"),
        pytest.param({"now": NAIVE}, id="now"),
        pytest.param({"bookings": [(NAIVE, NAIVE + HOUR)]}, id="booking"),
        pytest.param({"window_end": AWARE - HOUR}, id="inverted-window"),
        pytest.param({"duration": timedelta(0)}, id="zero-duration"),
        pytest.param({"step": -MINUTE}, id="negative-step"),
        pytest.param({"bookings": [(AWARE, AWARE)]}, id="empty-booking"),
    ],
)
def test_free_slots_rejects_bad_input(overrides):
    """Naive datetimes and nonsense intervals raise ValueError."""
    arguments = {
        "availability": make(),
        "window_start": AWARE,
        "window_end": AWARE + HOUR,
        "duration": HOUR,
        "bookings": [],
        "now": AWARE,
    } | overrides

    with pytest.raises(ValueError):  # noqa: PT011
        free_slots(**arguments)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"start": NAIVE}, id="start"),
        pytest.param({"now": NAIVE}, id="now"),
        pytest.param({"bookings": [(NAIVE, NAIVE + HOUR)]}, id="booking"),
    ],
)
def test_is_free_slot_rejects_naive_datetimes(overrides):
    """is_free_slot raises ValueError on naive datetimes."""
    arguments = {
        "availability": make(),
        "start": AWARE,
        "duration": HOUR,
        "bookings": [],
        "now": AWARE,
    } | overrides

    with pytest.raises(ValueError, match="timezone-aware"):
        is_free_slot(**arguments)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: make("Mars/Olympus"), id="unknown-zone"),
        pytest.param(lambda: make(weekly={7: NINE_TO_FIVE}), id="weekday-7"),
        pytest.param(
            lambda: make(weekly={0: [(t("17:00"), t("09:00"))]}), id="inverted"
        ),
        pytest.param(lambda: make(buffer=-MINUTE), id="negative-buffer"),
        pytest.param(
            lambda: AvailabilityException("holiday", NAIVE, NAIVE + HOUR), id="kind"
        ),
        pytest.param(
            lambda: AvailabilityException("off", AWARE, AWARE + HOUR), id="aware"
        ),
        pytest.param(lambda: AvailabilityException("off", NAIVE, NAIVE), id="empty"),
        pytest.param(
            lambda: AvailabilityException("extra", NAIVE, NAIVE + timedelta(days=1)),
            id="extra-over-midnight",
        ),
    ],
)
def test_invalid_availability_is_refused(build):
    """Availability and exceptions validate themselves on construction."""
    with pytest.raises(ValueError):  # noqa: PT011
        build()


# --- properties --------------------------------------------------------------------

ZONES = [
    PARIS,
    NEW_YORK,
    "Asia/Tokyo",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Asia/Kathmandu",  # +05:45
    "UTC",
]
# Midnights UTC a day or so before DST changes in the zones above (2024).
BASES = [
    datetime(2024, 3, 9, tzinfo=UTC),
    datetime(2024, 3, 30, tzinfo=UTC),
    datetime(2024, 4, 6, tzinfo=UTC),
    datetime(2024, 10, 5, tzinfo=UTC),
    datetime(2024, 10, 26, tzinfo=UTC),
    datetime(2024, 11, 2, tzinfo=UTC),
    datetime(2024, 6, 1, tzinfo=UTC),
]
FIVE = timedelta(minutes=5)
QUARTER = timedelta(minutes=15)


def quarter_time(index: int) -> time:
    """Return the wall-clock time of a quarter-hour index (96 is midnight)."""
    return time((index // 4) % 24, (index % 4) * 15)


wall_range = st.tuples(
    st.integers(0, 95), st.sampled_from([32, 16]) | st.integers(1, 40)
).map(lambda p: (quarter_time(p[0]), quarter_time(min(p[0] + p[1], 96))))


@st.composite
def scenarios(draw):
    """Draw an availability, a window near a DST change, bookings and a grid."""
    base = draw(st.sampled_from(BASES))
    base_day = base.date()
    zone = draw(st.sampled_from(ZONES))

    def local_moment():
        return (
            datetime.combine(base_day, time(0))
            + draw(st.integers(-96, 4 * 96)) * QUARTER
        )

    exceptions = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            start = local_moment()
            exceptions.append(
                AvailabilityException.time_off(
                    start, start + draw(st.integers(1, 96)) * QUARTER
                )
            )
        else:
            day = base_day + timedelta(days=draw(st.integers(-1, 4)))
            start_time, end_time = draw(wall_range)
            exceptions.append(
                AvailabilityException.extra_hours(day, start_time, end_time)
            )
    availability = Availability(
        timezone=zone,
        weekly=draw(
            st.dictionaries(
                st.integers(0, 6),
                st.lists(wall_range, min_size=1, max_size=3),
                min_size=4,
            )
        ),
        exceptions=exceptions,
        buffer=draw(st.sampled_from([0, 5, 10, 15, 30])) * MINUTE,
        minimum_notice=draw(st.sampled_from([0, 30, 120, 24 * 60])) * MINUTE,
        horizon=draw(st.sampled_from([60, 2, 1, 0])) * timedelta(days=1),
    )
    window_start = base + draw(st.integers(0, 3 * 96)) * QUARTER
    window_end = (
        window_start + draw(st.sampled_from([192, 96]) | st.integers(0, 192)) * QUARTER
    )
    now = window_start + draw(st.integers(-2 * 96, 16)) * QUARTER
    bookings = []
    for _ in range(draw(st.integers(0, 8))):
        start = window_start + draw(st.integers(-24, 2 * 288)) * FIVE
        bookings.append((start, start + draw(st.integers(1, 24)) * FIVE))
    duration = draw(st.sampled_from([15, 30, 45, 60, 90])) * MINUTE
    step = draw(st.sampled_from([None, FIVE, QUARTER, 2 * QUARTER]))
    return {
        "availability": availability,
        "window_start": window_start,
        "window_end": window_end,
        "duration": duration,
        "bookings": bookings,
        "now": now,
        "step": step,
    }


def buffered_overlap(slot, duration, bookings, buffer):
    """Return whether [slot, slot + duration) hits a booking padded by the buffer."""
    return any(
        start - buffer < slot + duration and slot < end + buffer
        for start, end in bookings
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_free_slots_properties(scenario):
    """Slots are sorted, unique, UTC, free, bounded, and match is_free_slot exactly."""
    slots = free_slots(**scenario)
    availability = scenario["availability"]
    now, duration = scenario["now"], scenario["duration"]
    lookup = {
        key: scenario[key]
        for key in ("availability", "duration", "bookings", "now", "step")
    }

    event("some slots" if slots else "no slots")
    assert slots == sorted(set(slots))
    for slot in slots:
        assert slot.tzinfo is UTC
        assert scenario["window_start"] <= slot < scenario["window_end"]
        assert now + availability.minimum_notice <= slot <= now + availability.horizon
        assert not buffered_overlap(
            slot, duration, scenario["bookings"], availability.buffer
        )
        assert is_free_slot(start=slot, **lookup)

    # Completeness: every grid start lands on a five-minute UTC boundary here, so
    # brute force over those instants must find nothing free_slots missed.
    offered = set(slots)
    candidate = scenario["window_start"]
    while candidate < scenario["window_end"]:
        assert is_free_slot(start=candidate, **lookup) == (candidate in offered)
        candidate += FIVE


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.integers(0, 2 * 96))
def test_windows_partition_slots(scenario, cut):
    """Splitting a window in two yields the same slots as searching it whole."""
    middle = min(scenario["window_start"] + cut * QUARTER, scenario["window_end"])

    whole = free_slots(**scenario)
    first = free_slots(**(scenario | {"window_end": middle}))
    second = free_slots(**(scenario | {"window_start": middle}))

    assert first + second == whole
