"""Deprecating an API operation: `deprecated: true` in the schema plus response headers.

`settings.API_DEPRECATIONS` maps an operation, written as the schema lists it
("GET /api/v1/analyses/progress/"), to when it was deprecated, when it goes and where
its replacement is documented. Responses of that operation then carry
`Deprecation: @<unix seconds>` (RFC 9745), `Sunset: <HTTP date>` (RFC 8594) and a
`Link` with `rel="deprecation"`; `skincare.schema.deprecated_operations` marks the
operation in the schema. README, "API versioning", says when to use it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.utils import format_datetime
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Deprecation:
    method: str
    path: str
    pattern: re.Pattern
    deprecated_at: dt.datetime
    sunset: dt.datetime
    link: str

    def headers(self) -> dict[str, str]:
        headers = {
            "Deprecation": f"@{int(self.deprecated_at.timestamp())}",
            "Sunset": format_datetime(self.sunset, usegmt=True),
        }
        if self.link:
            headers["Link"] = f'<{self.link}>; rel="deprecation"'
        return headers


def _day(value, key: str, name: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        raise ImproperlyConfigured(
            f"API_DEPRECATIONS[{key!r}][{name!r}] must be a YYYY-MM-DD date."
        ) from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _pattern(path: str) -> re.Pattern:
    """The request paths of a schema path: each `{param}` is one path segment."""
    parts = re.split(r"\{[^/{}]+\}", path)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")


@cache
def _parse(items: tuple) -> dict[tuple[str, str], Deprecation]:
    parsed = {}
    for key, spec_items in items:
        spec = dict(spec_items)
        method, _, path = key.partition(" ")
        if method not in METHODS or not path.startswith("/"):
            raise ImproperlyConfigured(
                f"API_DEPRECATIONS key {key!r} must read 'METHOD /api/v1/path/' as "
                "the schema lists the operation."
            )
        deprecated_at = _day(spec.get("deprecated"), key, "deprecated")
        sunset = _day(spec.get("sunset"), key, "sunset")
        if sunset <= deprecated_at:
            raise ImproperlyConfigured(
                f"API_DEPRECATIONS[{key!r}]: the sunset must come after the "
                "deprecation."
            )
        parsed[method, path] = Deprecation(
            method=method,
            path=path,
            pattern=_pattern(path),
            deprecated_at=deprecated_at,
            sunset=sunset,
            link=spec.get("link", ""),
        )
    return parsed


def deprecations() -> dict[tuple[str, str], Deprecation]:
    """The deprecated operations by (method, schema path), read from the settings."""
    configured = getattr(settings, "API_DEPRECATIONS", {}) or {}
    return _parse(
        tuple((key, tuple(sorted(spec.items()))) for key, spec in configured.items())
    )


def deprecation_for(method: str, path: str) -> Deprecation | None:
    """The deprecation of the operation this request reaches, if any."""
    for deprecation in deprecations().values():
        if deprecation.method == method and deprecation.pattern.match(path):
            return deprecation
    return None


class DeprecationMiddleware:
    """Adds Deprecation, Sunset and Link headers to a deprecated operation's answers."""

    def __init__(self, get_response):
        self.get_response = get_response
        deprecations()  # a malformed API_DEPRECATIONS refuses to start

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/") and getattr(
            settings, "API_DEPRECATIONS", None
        ):
            deprecation = deprecation_for(request.method, request.path)
            if deprecation is not None:
                for name, value in deprecation.headers().items():
                    if name == "Link" and response.headers.get("Link"):
                        value = f"{response.headers['Link']}, {value}"
                    response.headers[name] = value
        return response
