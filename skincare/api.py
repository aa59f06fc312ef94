"""Small pieces every app's API shares."""

from typing import ClassVar

import django_filters
from django import forms
from drf_standardized_errors import openapi
from rest_framework import serializers

_HEX = "[0-9a-fA-F]"
# A UUID, hyphens optional as uuid.UUID accepts; anything else never reaches a query.
UUID_LOOKUP_REGEX = f"{_HEX}{{8}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{12}}"


class StrictBooleanField(forms.Field):
    """A query-string boolean that refuses anything but true/false/1/0."""

    widget = forms.TextInput
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


AUTH_ERROR_CODES = [
    "authentication_failed",
    "not_authenticated",
    "token_not_valid",
    "no_active_account",
    "user_inactive",
    "user_not_found",
    "password_changed",
]


class Error401Serializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[(c, c) for c in AUTH_ERROR_CODES])
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse401Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[("client_error", "client_error")])
    errors = Error401Serializer(many=True)


class AutoSchema(openapi.AutoSchema):
    """drf-standardized-errors' schema, plus 401 for sign-in views open to anyone."""

    def _should_add_http401_error_response(self) -> bool:
        return super()._should_add_http401_error_response() or getattr(
            self.view, "answers_401", False
        )
