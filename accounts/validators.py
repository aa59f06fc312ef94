import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def iana_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    """Accept only IANA time zone names such as Europe/Paris."""
    if value not in iana_timezones():
        raise ValidationError(
            "%(value)s is not an IANA time zone name.",
            code="invalid_timezone",
            params={"value": value},
        )
