"""Pure slot arithmetic: weekly hours, dated exceptions, buffers, notice and DST.

Working time is defined in the dermatologist's local wall-clock time and converted to
UTC day by day, so a 09:00-17:00 range stays 09:00-17:00 local across DST changes.
A local time that does not exist (spring-forward gap) maps to the first real instant
after the gap; an ambiguous one (fall-back) maps to its first occurrence (fold=0).

Slot starts lie on a grid anchored at the start of each working range of a local day
(weekly ranges and extra hours of that day, overlapping or touching ones merged). The
grid restarts each day, but a slot may run on past midnight into the next day's range.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_WINDOW_DAYS = 31

ExceptionKind = Literal["off", "extra"]
Interval = tuple[datetime, datetime]

_MIDNIGHT = time(0)
_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class AvailabilityException:
    """A dated change to weekly hours, in naive local wall-clock time."""

    kind: ExceptionKind
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.kind not in ("off", "extra"):
            raise ValueError(f"unknown exception kind: {self.kind!r}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("exception times are local wall-clock times: use naive")
        if self.end <= self.start:
            raise ValueError("an exception must end after it starts")
        if self.kind == "extra" and self.end > _next_midnight(self.start):
            raise ValueError("extra hours must lie within one local day")

    @classmethod
    def time_off(cls, start: datetime, end: datetime) -> AvailabilityException:
        """Time off between two local datetimes."""
        return cls("off", start, end)

    @classmethod
    def days_off(cls, first: date, last: date) -> AvailabilityException:
        """Whole local days off, from `first` to `last` inclusive."""
        return cls("off", _combine(first, _MIDNIGHT), _combine(last + _DAY, _MIDNIGHT))

    @classmethod
    def extra_hours(cls, day: date, start: time, end: time) -> AvailabilityException:
        """Extra working hours on one local date (an `end` of 00:00 means midnight)."""
        return cls("extra", *_local_range(day, start, end))


@dataclass(frozen=True, slots=True)
class Availability:
    """A dermatologist's bookable time, in their own IANA time zone."""

    timezone: str
    weekly: Mapping[int, Sequence[tuple[time, time]]]
    exceptions: Sequence[AvailabilityException] = ()
    buffer: timedelta = timedelta(0)
    minimum_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=60)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone: {self.timezone!r}") from exc
        for weekday, ranges in self.weekly.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) to 6, got {weekday!r}")
            for start, end in ranges:
                if start.tzinfo is not None or end.tzinfo is not None:
                    raise ValueError("weekly hours are wall-clock times: use naive")
                if not (start < end or end == _MIDNIGHT):
                    raise ValueError(f"range {start}-{end} ends before it starts")
        if min(self.buffer, self.minimum_notice, self.horizon) < timedelta(0):
            raise ValueError("buffer, minimum notice and horizon cannot be negative")

    @property
    def tz(self) -> ZoneInfo:
        """The dermatologist's time zone (ZoneInfo caches instances by key)."""
        return ZoneInfo(self.timezone)


def free_slots(
    *,
    availability: Availability,
    window_start: datetime,
    window_end: datetime,
    duration: timedelta,
    bookings: Sequence[tuple[datetime, datetime]],
    now: datetime,
    step: timedelta | None = None,
) -> list[datetime]:
    """Return sorted UTC slot starts in [window_start, window_end) free for booking."""
    step = _grid_step(duration, step)
    window_start = _as_utc(window_start, "window_start")
    window_end = _as_utc(window_end, "window_end")
    now = _as_utc(now, "now")
    booked = _as_utc_intervals(bookings)
    if window_end < window_start:
        raise ValueError("window_end is before window_start")
    if window_end - window_start > timedelta(days=MAX_WINDOW_DAYS):
        raise ValueError(f"a window cannot exceed {MAX_WINDOW_DAYS} days")

    earliest = max(window_start, now + availability.minimum_notice)
    latest = min(window_end - _TICK, now + availability.horizon)
    if earliest > latest:
        return []
    tz = availability.tz
    first_day = _local_date(earliest, tz) - _DAY
    last_day = _local_date(latest + duration, tz) + _DAY
    ranges = _day_ranges(availability, tz, first_day, last_day)
    if not ranges:
        return []

    span_start, span_end = ranges[0][0], ranges[-1][1]
    buffer = availability.buffer
    blocked = _time_off(availability, tz, first_day, last_day)
    blocked += [
        (start - buffer, end + buffer)
        for start, end in booked
        if start - buffer < span_end and end + buffer > span_start
    ]
    free = _subtract(_merge(ranges, touching=True), _merge(blocked, touching=True))
    return _grid_starts(ranges, free, earliest, latest, duration, step)


def is_free_slot(
    *,
    availability: Availability,
    start: datetime,
    duration: timedelta,
    bookings: Sequence[tuple[datetime, datetime]],
    now: datetime,
    step: timedelta | None = None,
) -> bool:
    """Return whether `start` is a slot that `free_slots` would offer."""
    step = _grid_step(duration, step)
    start = _as_utc(start, "start")
    now = _as_utc(now, "now")
    booked = _as_utc_intervals(bookings)
    if not now + availability.minimum_notice <= start <= now + availability.horizon:
        return False

    end = start + duration
    tz = availability.tz
    days = (_local_date(start, tz) - _DAY, _local_date(end, tz) + _DAY)
    ranges = _day_ranges(availability, tz, *days)
    i = bisect_right(ranges, start, key=_first) - 1
    if i < 0 or start >= ranges[i][1] or (start - ranges[i][0]) % step:
        return False
    working = _merge(ranges, touching=True)
    if working[bisect_right(working, start, key=_first) - 1][1] < end:
        return False

    if any(s < end and start < e for s, e in _time_off(availability, tz, *days)):
        return False
    low, high = start - availability.buffer, end + availability.buffer
    return not any(s < high and low < e for s, e in booked)


def _day_ranges(
    availability: Availability, tz: ZoneInfo, first_day: date, last_day: date
) -> list[Interval]:
    """Return each day's working ranges in UTC, sorted, merged within the day."""
    extras: dict[date, list[Interval]] = {}
    for extra in _exceptions(availability, "extra", first_day, last_day):
        extras.setdefault(extra.start.date(), []).append((extra.start, extra.end))
    ranges: list[Interval] = []
    day = first_day
    while day <= last_day:
        local = [
            _local_range(day, s, e)
            for s, e in availability.weekly.get(day.weekday(), ())
        ]
        local += extras.get(day, [])
        utc = [(_to_utc(s, tz), _to_utc(e, tz)) for s, e in local]
        # Both ends inside a DST gap collapse to an empty range.
        ranges += _merge([r for r in utc if r[0] < r[1]], touching=True)
        day += _DAY
    return ranges


def _time_off(
    availability: Availability, tz: ZoneInfo, first_day: date, last_day: date
) -> list[Interval]:
    """Return the time off touching the given local days, in UTC."""
    off = _exceptions(availability, "off", first_day, last_day)
    return [(_to_utc(x.start, tz), _to_utc(x.end, tz)) for x in off]


def _exceptions(
    availability: Availability, kind: ExceptionKind, first_day: date, last_day: date
) -> list[AvailabilityException]:
    """Return exceptions of `kind` overlapping the given local days."""
    lo, hi = _combine(first_day, _MIDNIGHT), _combine(last_day + _DAY, _MIDNIGHT)
    return [
        x
        for x in availability.exceptions
        if x.kind == kind and x.start < hi and x.end > lo
    ]


def _merge(intervals: Iterable[Interval], *, touching: bool) -> list[Interval]:
    """Sort and merge overlapping intervals, and touching ones if `touching`."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and (start < merged[-1][1] or (touching and start == merged[-1][1])):
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(base: Sequence[Interval], cuts: Sequence[Interval]) -> list[Interval]:
    """Return the parts of sorted disjoint `base` outside sorted disjoint `cuts`."""
    out: list[Interval] = []
    j = 0
    for start, end in base:
        while j < len(cuts) and cuts[j][1] <= start:
            j += 1
        cursor = start
        while j < len(cuts) and cuts[j][0] < end:
            cut_start, cut_end = cuts[j]
            if cut_start > cursor:
                out.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
            if cut_end > end:
                break  # this cut may cover the next base interval too
            j += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def _grid_starts(
    ranges: Sequence[Interval],
    free: Sequence[Interval],
    earliest: datetime,
    latest: datetime,
    duration: timedelta,
    step: timedelta,
) -> list[datetime]:
    """Walk each range's grid through the free intervals overlapping it."""
    free_ends = [end for _, end in free]
    starts: list[datetime] = []
    for anchor, range_end in ranges:
        i = bisect_right(free_ends, anchor)
        while i < len(free) and free[i][0] < range_end:
            free_start, free_end = free[i]
            lo = max(free_start, anchor, earliest)
            hi = min(free_end - duration, latest, range_end - _TICK)
            slot = anchor - ((anchor - lo) // step) * step  # first grid point >= lo
            while slot <= hi:
                starts.append(slot)
                slot += step
            i += 1
    return starts


def _to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """Map a naive wall-clock time to UTC: fold=0 if ambiguous, gap end if missing."""
    utc = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) == local:
        return utc
    # In a gap fold=1 lands before the transition and fold=0 after it: bisect seconds
    # for the first instant whose wall clock has reached `local`.
    before = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = 0, int((utc - before).total_seconds())
    while lo < hi:
        mid = (lo + hi) // 2
        probe = before + timedelta(seconds=mid)
        if probe.astimezone(tz).replace(tzinfo=None) >= local:
            hi = mid
        else:
            lo = mid + 1
    return before + timedelta(seconds=lo)


def _local_range(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """Return a day's wall-clock range as naive datetimes; 00:00 ends at midnight."""
    end_day = day + _DAY if end == _MIDNIGHT else day
    return _combine(day, start), _combine(end_day, end)


def _combine(day: date, at: time) -> datetime:
    """Return the naive local datetime of `day` at `at`."""
    return datetime.combine(day, at)


def _next_midnight(moment: datetime) -> datetime:
    """Return the naive local midnight that ends `moment`'s day."""
    return _combine(moment.date() + _DAY, _MIDNIGHT)


def _local_date(moment: datetime, tz: ZoneInfo) -> date:
    """Return the local date of an aware instant."""
    return moment.astimezone(tz).date()


def _first(interval: Interval) -> datetime:
    """Return an interval's start (bisect key)."""
    return interval[0]


def _grid_step(duration: timedelta, step: timedelta | None) -> timedelta:
    """Validate the duration and return the grid step (the duration by default)."""
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    if step is not None and step <= timedelta(0):
        raise ValueError("step must be positive")
    return duration if step is None else step


def _as_utc(value: datetime, name: str) -> datetime:
    """Return an aware datetime in UTC; raise ValueError if it is naive."""
    if value.tzinfo is UTC:  # fast path: bookings read from the database
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _as_utc_intervals(intervals: Iterable[tuple[datetime, datetime]]) -> list[Interval]:
    """Validate bookings and return them in UTC."""
    out = [
        (_as_utc(s, "booking start"), _as_utc(e, "booking end")) for s, e in intervals
    ]
    if any(end <= start for start, end in out):
        raise ValueError("a booking must end after it starts")
    return out
