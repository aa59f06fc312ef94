"""Database pieces that only PostgreSQL has: the no-overlap exclusion constraint."""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db.models import Func, Q

ACTIVE_STATUSES = ("requested", "confirmed")


class TsTzRange(Func):
    """tstzrange(start, end), half-open: back-to-back consultations do not overlap."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


def overlap_constraint(name: str) -> ExclusionConstraint:
    """Two active consultations of one dermatologist never overlap in time."""
    return ExclusionConstraint(
        name=name,
        expressions=[
            ("dermatologist", RangeOperators.EQUAL),
            (TsTzRange("start", "end"), RangeOperators.OVERLAPS),
        ],
        condition=Q(status__in=ACTIVE_STATUSES),
    )
