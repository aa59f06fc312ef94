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

_LIST_FIELDS = (
    serializers.ListField | serializers.ListSerializer | serializers.ManyRelatedField
)


def _type_error(field: serializers.Field, value):
    """The (code, message) of a JSON value of the wrong type, or None.

    Codes are ones the field already declares, so they appear in the schema; a
    list item's error is keyed by its index, as DRF keys its own.
    """
    if value is None:
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else ("invalid", "Must be a boolean.")
    if isinstance(field, serializers.IntegerField):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else ("invalid", "Must be an integer.")
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        ok = isinstance(value, int | float | str) and not isinstance(value, bool)
        if isinstance(field, serializers.FloatField):
            ok = ok and not isinstance(value, str)
        return None if ok else ("invalid", "Must be a number.")
    if isinstance(field, serializers.ChoiceField):
        return None
    if isinstance(field, serializers.RelatedField):
        ok = isinstance(value, str)
        return None if ok else ("incorrect_type", "Must be an id string.")
    if isinstance(field, _STRING_FIELDS):
        return None if isinstance(value, str) else ("invalid", "Must be a string.")
    if isinstance(
        field,
        serializers.ListField
        | serializers.ListSerializer
        | serializers.ManyRelatedField,
    ):
        if not isinstance(value, list):
            return ("not_a_list", "Must be a list.")
        child = getattr(field, "child", None) or getattr(field, "child_relation", None)
        if child is None or isinstance(child, serializers.BaseSerializer):
            return None
        item_errors = {}
        for index, item in enumerate(value):
            if error := _type_error(child, item):
                item_errors[index] = [ErrorDetail(error[1], code=error[0])]
        return item_errors or None
    if isinstance(field, serializers.DictField):
        return (
            None if isinstance(value, Mapping) else ("not_a_dict", "Must be an object.")
        )
    if isinstance(field, serializers.BaseSerializer):
        # Keyed like DRF's own error for a nested object: `field.non_field_errors`.
        if isinstance(value, Mapping):
            return None
        return {"non_field_errors": [ErrorDetail("Must be an object.", code="invalid")]}
    return None


class StrictTypesMixin:
    """Refuse JSON values of the wrong type instead of coercing them."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors = {}
            for field in self._writable_fields:
                name = field.field_name
                error = name in data and _type_error(field, data[name])
                if isinstance(error, dict):
                    errors[name] = error
                elif error:
                    errors[name] = [ErrorDetail(error[1], code=error[0])]
            if errors:
                raise ValidationError(errors)
        return super().to_internal_value(data)


class Serializer(StrictTypesMixin, serializers.Serializer):
    pass


class ModelSerializer(StrictTypesMixin, serializers.ModelSerializer):
    pass
