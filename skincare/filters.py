"""Query-string filter pieces every app's FilterSets share."""

from datetime import UTC
from typing import ClassVar

import django_filters
from django import forms
from django.utils.dateparse import parse_datetime


class StrictBooleanField(forms.Field):
    """A query-string boolean that refuses anything but true/false/1/0."""

    widget = forms.TextInput
    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "Must be true or false."
    }
    VALUES: ClassVar[dict[str, bool]] = {
        "true": True,
        "1": True,
        "false": False,
        "0": False,
    }

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).lower()]
        except KeyError:
            raise forms.ValidationError(
                "Must be true or false.", code="invalid"
            ) from None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class TimestampField(forms.Field):
    """An ISO 8601 date-time with its offset (naive times are refused), in UTC."""

    widget = forms.TextInput
    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid_timestamp": "Give an ISO 8601 date-time with an offset, "
        "e.g. 2026-05-01T08:00:00Z."
    }

    def to_python(self, value):
        if value is None:  # absent; present but empty is refused below
            return None
        try:
            parsed = parse_datetime(str(value).strip())
            if parsed is None or parsed.tzinfo is None:
                raise ValueError(value)
            return parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            raise forms.ValidationError(
                self.error_messages["invalid_timestamp"], code="invalid_timestamp"
            ) from None


class UpdatedSinceFilter(django_filters.IsoDateTimeFilter):
    """`?updated_since=`: rows changed at or after a time (an app's sync point)."""

    field_class = TimestampField

    def __init__(self, field_name: str = "updated_at", **kwargs):
        kwargs.setdefault("lookup_expr", "gte")
        kwargs.setdefault(
            "help_text",
            "Only rows changed at or after this time (ISO 8601 with offset). Pass "
            "the largest `updated_at` of the previous sync minus a minute; rows "
            "deleted since are not listed (README, Retries and sync).",
        )
        super().__init__(field_name=field_name, **kwargs)
