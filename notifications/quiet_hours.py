"""Quiet-hours arithmetic in a user's time zone (pure, no Django)."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def quiet_until(now: datetime, tz: ZoneInfo, start: time, end: time) -> datetime | None:
    """Return when the quiet window holding `now` ends (UTC), or None outside it.

    The window is wall-clock time in `tz` and may cross midnight (22:00-07:00). An end
    that falls in a DST gap is read with the offset before the gap (02:30 on the
    spring-forward night ends the window at 03:30 summer time).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if start == end:
        return None
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_date = local.date()
    else:
        inside = clock >= start or clock < end
        end_date = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_date, end, tzinfo=tz).astimezone(UTC)
