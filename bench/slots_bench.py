"""Benchmark free_slots on a 31-day window with 500 bookings against a naive scan.

Run from the repository root: .venv/bin/python bench/slots_bench.py [runs]
"""

import random
import statistics
import sys
import time as clock
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from consultations.slots import (
    MAX_WINDOW_DAYS,
    Availability,
    AvailabilityException,
    _day_ranges,
    _merge,
    _time_off,
    free_slots,
    is_free_slot,
)

BOOKINGS = 500
DURATION = timedelta(minutes=30)
STEP = timedelta(minutes=15)


def naive_free_slots(
    *,
    availability: Availability,
    window_start: datetime,
    window_end: datetime,
    duration: timedelta,
    bookings: Sequence[tuple[datetime, datetime]],
    now: datetime,
    step: timedelta,
) -> list[datetime]:
    """Check every grid start against every working interval, time off and booking."""
    tz = availability.tz
    first_day = window_start.astimezone(tz).date() - timedelta(days=1)
    last_day = (window_end + duration).astimezone(tz).date() + timedelta(days=1)
    ranges = _day_ranges(availability, tz, first_day, last_day)
    working = _merge(ranges, touching=True)
    time_off = _time_off(availability, tz, first_day, last_day)
    buffer = availability.buffer
    earliest = max(window_start, now + availability.minimum_notice)
    latest = now + availability.horizon
    slots = []
    for anchor, range_end in ranges:
        slot = anchor
        while slot < range_end:
            end = slot + duration
            if (
                earliest <= slot < window_end
                and slot <= latest
                and any(ws <= slot and end <= we for ws, we in working)
                and not any(s < end and slot < e for s, e in time_off)
                and not any(s - buffer < end and slot < e + buffer for s, e in bookings)
            ):
                slots.append(slot)
            slot += step
    return slots


def scenario(seed: int = 7) -> dict:
    """Build a Paris schedule over a DST change with random bookings and exceptions."""
    rng = random.Random(seed)
    working_day = [(time(8), time(12, 30)), (time(13, 30), time(20))]
    availability = Availability(
        timezone="Europe/Paris",
        weekly=dict.fromkeys(range(6), working_day),
        exceptions=[
            AvailabilityException.days_off(date(2024, 3, 27), date(2024, 3, 29)),
            AvailabilityException.time_off(
                datetime.combine(date(2024, 4, 2), time(10)),
                datetime.combine(date(2024, 4, 2), time(15)),
            ),
            AvailabilityException.extra_hours(date(2024, 3, 31), time(9), time(13)),
        ],
        buffer=timedelta(minutes=10),
        minimum_notice=timedelta(hours=2),
        horizon=timedelta(days=60),
    )
    window_start = datetime(2024, 3, 18, tzinfo=UTC)
    window_end = window_start + timedelta(days=MAX_WINDOW_DAYS)
    tz = availability.tz
    bookings = []
    for _ in range(BOOKINGS):
        day = window_start.date() + timedelta(days=rng.randrange(MAX_WINDOW_DAYS))
        local = datetime.combine(day, time(8), tz) + STEP * rng.randrange(46)
        start = local.astimezone(UTC)
        bookings.append((start, start + DURATION * rng.choice((1, 1, 2))))
    return {
        "availability": availability,
        "window_start": window_start,
        "window_end": window_end,
        "duration": DURATION,
        "bookings": bookings,
        "now": window_start - timedelta(hours=1),
        "step": STEP,
    }


def median_seconds(function: Callable[[], object], runs: int) -> float:
    """Return the median wall time of `runs` calls."""
    times = []
    for _ in range(runs):
        started = clock.perf_counter()
        function()
        times.append(clock.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    """Time both implementations and print the figures."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    arguments = scenario()
    fast = free_slots(**arguments)
    naive = naive_free_slots(**arguments)
    assert fast == naive, "implementations disagree"

    fast_s = median_seconds(lambda: free_slots(**arguments), runs)
    naive_s = median_seconds(lambda: naive_free_slots(**arguments), max(3, runs // 5))
    single = {k: v for k, v in arguments.items() if not k.startswith("window")}
    middle = fast[len(fast) // 2]
    check_s = median_seconds(lambda: is_free_slot(start=middle, **single), runs)

    print(f"window {MAX_WINDOW_DAYS} days, {BOOKINGS} bookings, {len(fast)} free slots")
    print(f"free_slots          median {fast_s * 1e3:8.2f} ms over {runs} runs")
    print(f"naive grid x booking median {naive_s * 1e3:8.2f} ms")
    print(f"speed-up            {naive_s / fast_s:8.1f}x")
    print(f"is_free_slot        median {check_s * 1e6:8.1f} us")


if __name__ == "__main__":
    main()
