"""Small pieces every app's API shares."""

import re
from typing import ClassVar

from drf_spectacular.utils import extend_schema_field
from drf_standardized_errors import openapi
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from rest_framework import serializers

_HEX = "[0-9a-fA-F]"
# A UUID, hyphens optional as uuid.UUID accepts; anything else never reaches a query.
UUID_LOOKUP_REGEX = f"{_HEX}{{8}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{12}}"


AUTH_ERROR_CODES = [
    "authentication_failed",
    "not_authenticated",
    "token_not_valid",
    "token_reused",
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


# 429s: DRF's throttles, and limits that services apply (sign-in lock, daily caps).
RATE_LIMIT_CODES = ["throttled", "account_locked", "analysis_daily_limit"]


class RateLimitErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[(c, c) for c in RATE_LIMIT_CODES])
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class RateLimitErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = RateLimitErrorSerializer(many=True)


class AutoSchema(openapi.AutoSchema):
    """drf-standardized-errors' schema, plus 401 for sign-in views open to anyone."""

    def _should_add_http401_error_response(self) -> bool:
        return super()._should_add_http401_error_response() or getattr(
            self.view, "answers_401", False
        )


def index_attrs_as_patterns(result, generator, request, public):
    """Let `items.3` match the error attr documented as `items.INDEX`.

    drf-standardized-errors names list-item errors with a literal INDEX in the
    schema, while responses carry the real index.
    """
    for component in result.get("components", {}).get("schemas", {}).values():
        attr = component.get("properties", {}).get("attr")
        values = (attr or {}).get("enum") or []
        if not any(isinstance(v, str) and ".INDEX" in v for v in values):
            continue
        patterns = [
            "^" + re.escape(value).replace("INDEX", "[0-9]+") + "$"
            for value in attr.pop("enum")
        ]
        attr["pattern"] = "|".join(patterns)
    return result


def query_strings_without_nul(result, generator, request, public):
    """State in the schema what every query string already obeys: no NUL character.

    Django's form fields and DRF's search refuse NUL (PostgreSQL cannot store it).
    """
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                plain = not {"enum", "pattern", "format"} & set(schema)
                if (
                    parameter.get("in") == "query"
                    and schema.get("type") == "string"
                    and plain
                ):
                    schema["pattern"] = "^[^\\u0000]*$"
    return result


class LocalTimeField(serializers.TimeField):
    """A wall-clock time in the user's own time zone, so it carries no offset."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "Time has wrong format. Use hh:mm[:ss], with no offset."
    }

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        if parsed.tzinfo is not None:
            self.fail("invalid")
        return parsed

    def to_representation(self, value):
        return None if value is None else value.isoformat(timespec="seconds")


extend_schema_field(
    {
        "type": "string",
        "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?$",
        "example": "07:30:00",
    }
)(LocalTimeField)
