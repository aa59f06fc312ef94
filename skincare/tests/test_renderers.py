"""ORJSONRenderer writes the bytes DRF's JSONRenderer writes."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from skincare.renderers import ORJSONRenderer

SAMPLES = [
    {"a": 1, "b": [1, 2.5, None, True, False], "c": {"d": "é ü 中 \u2028 \u2029"}},
    {
        "utc": datetime(2024, 3, 31, 1, 2, 3, 456789, tzinfo=UTC),
        "paris": datetime(2024, 3, 31, 4, 2, 3, tzinfo=ZoneInfo("Europe/Paris")),
        "naive": datetime(2024, 1, 1, 12, 0),
        "day": date(2024, 2, 29),
        "at": time(7, 30),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "price": Decimal("12.50"),
        "lazy": gettext_lazy("Not found."),
        "wait": timedelta(minutes=5),
        "error": ErrorDetail("Must be a string.", code="invalid"),
        1: "integer key",
    },
    ReturnList([ReturnDict({"x": 1}, serializer=None)], serializer=None),
    [],
    "plain",
    {"big": 2**70},  # beyond orjson: falls back to the stock renderer
]


def test_same_bytes_as_drf():
    for data in SAMPLES:
        assert ORJSONRenderer().render(data) == JSONRenderer().render(data), data


def test_none_and_indent():
    assert ORJSONRenderer().render(None) == b""
    indented = ORJSONRenderer().render({"a": 1}, "application/json; indent=2")
    assert indented == JSONRenderer().render({"a": 1}, "application/json; indent=2")
