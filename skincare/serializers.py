"""Serializer bases that hold JSON input to JSON's own types.

DRF coerces "true" into a boolean and "5" into an integer, which suits HTML forms but
lets a JSON client send the wrong type without hearing about it. For JSON bodies these
bases refuse such values with the field's `invalid` code; form and multipart bodies
(all strings by nature) keep DRF's coercion.
"""

from collections.abc import Mapping

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

_STRING_FIELDS = (
    serializers.CharField
    | serializers.DateField
    | serializers.DateTimeField
    | serializers.TimeField
    | serializers.DurationField
    | serializers.UUIDField
    | serializers.RelatedField
)


def _type_error(field: serializers.Field, value) -> str | None:
    if value is None:
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be a boolean."
    if isinstance(field, serializers.IntegerField):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else "Must be an integer."
    if isinstance(field, serializers.FloatField):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "Must be a number."
    if isinstance(field, serializers.DecimalField):
        ok = isinstance(value, int | float | str) and not isinstance(value, bool)
        return None if ok else "Must be a decimal number or a string of one."
    if isinstance(field, serializers.ChoiceField):
        return None
    if isinstance(field, _STRING_FIELDS):
        # Related objects are addressed by UUID strings throughout the API.
        return None if isinstance(value, str) else "Must be a string."
    if isinstance(
        field,
        serializers.ListField
        | serializers.ListSerializer
        | serializers.ManyRelatedField,
    ):
        if not isinstance(value, list):
            return "Must be a list."
        child = getattr(field, "child", None) or getattr(field, "child_relation", None)
        if child is not None and not isinstance(child, serializers.BaseSerializer):
            for item in value:
                if message := _type_error(child, item):
                    return f"Each item: {message}"
        return None
    if isinstance(field, serializers.DictField | serializers.JSONField):
        return None
    if isinstance(field, serializers.BaseSerializer):
        return None if isinstance(value, Mapping) else "Must be an object."
    return None


class StrictTypesMixin:
    """Refuse JSON values of the wrong type instead of coercing them."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors = {}
            for field in self._writable_fields:
                name = field.field_name
                message = name in data and _type_error(field, data[name])
                if message:
                    errors[name] = [ErrorDetail(message, code="invalid")]
            if errors:
                raise ValidationError(errors)
        return super().to_internal_value(data)


class Serializer(StrictTypesMixin, serializers.Serializer):
    pass


class ModelSerializer(StrictTypesMixin, serializers.ModelSerializer):
    pass
