"""Query-string filter pieces every app's FilterSets share."""

from typing import ClassVar

import django_filters
from django import forms


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
