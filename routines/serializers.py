"""API shapes of routines.

Input is validated by DRF serializers. Output on the hot paths is built by plain
functions (``*_data``) from prefetched rows: no nested ModelSerializer, no per-row
query. The ``*Out`` serializers describe that output for the OpenAPI schema only;
``tests/test_schema_shapes.py`` keeps them in step with the functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from rest_framework import serializers

from routines.conflicts import RULES
from routines.layering import PERIODS, PRODUCT_CATEGORIES, STEP_KINDS
from routines.models import CheckIn, Ingredient, Product, Routine, weekday_list
from skincare import serializers as api_serializers
from skincare.api import LocalTimeField

PAIR_RULES = [rule for rule in RULES if rule.first and rule.second]


# ------------------------------------------------------------------------------
# Output builders
# ------------------------------------------------------------------------------
def ingredient_brief(ingredient: Ingredient) -> dict[str, Any]:
    return {
        "id": str(ingredient.pk),
        "inci": ingredient.inci,
        "common_names": ingredient.common_names,
        "functions": ingredient.functions,
    }


def conflicts_of(functions: Iterable[str]) -> list[dict[str, Any]]:
    """Pair rules of routines.conflicts that an ingredient with ``functions`` meets."""
    own = set(functions)
    found = []
    for rule in PAIR_RULES:
        for mine, theirs in ((rule.first, rule.second), (rule.second, rule.first)):
            if own & mine:
                found.append(
                    {
                        "rule": rule.code,
                        "severity": rule.severity,
                        "with_functions": sorted(theirs),
                        "advice": rule.advice,
                    }
                )
                break
    return found


def ingredient_data(ingredient: Ingredient) -> dict[str, Any]:
    return {
        **ingredient_brief(ingredient),
        "concerns": ingredient.concerns,
        "pregnancy_caution": ingredient.pregnancy_caution,
        "photosensitising": ingredient.photosensitising,
        "ph_dependent": ingredient.ph_dependent,
        "comedogenic_rating": ingredient.comedogenic_rating,
        "description": ingredient.description,
        "conflicts": conflicts_of(ingredient.functions or ()),
    }


def product_data(product: Product) -> dict[str, Any]:
    ingredients = [pi.ingredient for pi in product.product_ingredients.all()]
    concerns = sorted({c for i in ingredients for c in i.concerns or ()})
    return {
        "id": str(product.pk),
        "slug": product.slug,
        "brand": product.brand,
        "name": product.name,
        "category": product.category,
        "skin_types": product.skin_types,
        "texture": product.texture,
        "fragrance_free": product.fragrance_free,
        "non_comedogenic": product.non_comedogenic,
        "spf": product.spf,
        "price": None if product.price is None else f"{product.price:.2f}",
        "currency": product.currency,
        "size_ml": product.size_ml,
        "description": product.description,
        "concerns": concerns,
        "ingredients": [ingredient_brief(i) for i in ingredients],
    }


def step_data(step: Mapping[str, Any]) -> dict[str, Any]:
    """A step from its row (routines.selectors.step_rows)."""
    return {
        "id": str(step["id"]),
        "position": step["position"],
        "step_kind": step["step_kind"],
        "name": step["name"],
        "product": None
        if step["product_id"] is None
        else {
            "id": str(step["product_id"]),
            "slug": step["product__slug"],
            "brand": step["product__brand"],
            "name": step["product__name"],
            "category": step["product__category"],
        },
        "days_of_week": weekday_list(step["weekdays"]),
        "every_n_days": step["every_n_days"],
        "start_date": step["start_date"].isoformat() if step["start_date"] else None,
        "note": step["note"],
        "reason": step["reason"],
    }


def routine_data(
    routine: Routine, steps: Iterable[Mapping[str, Any]], *, raw: bool = False
) -> dict[str, Any]:
    """A routine (from selectors.routines_for) with its step rows and stored warnings.

    Warnings: see services.routines_with_warnings, which keeps them current. With
    ``raw`` they stay the stored JSON text, written into the body as is by an orjson
    renderer (``orjson.Fragment``); otherwise they are decoded.
    """
    text = routine.warnings_json
    return {
        "id": str(routine.pk),
        "period": routine.period,
        "name": routine.name,
        "reminder_time": routine.reminder_time.isoformat(timespec="seconds")
        if routine.reminder_time
        else None,
        "custom_order": routine.custom_order,
        "source": routine.source,
        "analysis": str(routine.analysis_id) if routine.analysis_id else None,
        "notes": routine.notes,
        "created_at": routine.created_at.isoformat(),
        "updated_at": routine.updated_at.isoformat(),
        "steps": [step_data(s) for s in steps],
        "has_severe_warning": routine.first_severity == "severe",
        "warnings": orjson.Fragment(text) if raw else orjson.loads(text),
    }


def check_in_data(check_in: CheckIn) -> dict[str, Any]:
    return {
        "id": str(check_in.pk),
        "step": str(check_in.step_id),
        "date": check_in.date.isoformat(),
        "created_at": check_in.created_at.isoformat(),
    }


# ------------------------------------------------------------------------------
# Output shapes, for the schema
# ------------------------------------------------------------------------------
class IngredientBriefOut(api_serializers.Serializer):
    id = serializers.UUIDField()
    inci = serializers.CharField()
    common_names = serializers.ListField(child=serializers.CharField())
    functions = serializers.ListField(child=serializers.CharField())


class IngredientConflictOut(api_serializers.Serializer):
    rule = serializers.CharField(help_text="Code of the conflict rule.")
    severity = serializers.ChoiceField(choices=["info", "warning", "severe"])
    with_functions = serializers.ListField(
        child=serializers.CharField(),
        help_text="Ingredient functions this one conflicts with.",
    )
    advice = serializers.CharField()


class IngredientOut(IngredientBriefOut):
    concerns = serializers.ListField(
        child=serializers.CharField(), help_text="Concerns it treats."
    )
    pregnancy_caution = serializers.BooleanField()
    photosensitising = serializers.BooleanField()
    ph_dependent = serializers.BooleanField()
    comedogenic_rating = serializers.IntegerField(allow_null=True)
    description = serializers.CharField()
    conflicts = IngredientConflictOut(many=True)


class ProductOut(api_serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.SlugField()
    brand = serializers.CharField()
    name = serializers.CharField()
    category = serializers.ChoiceField(choices=PRODUCT_CATEGORIES)
    skin_types = serializers.ListField(child=serializers.CharField())
    texture = serializers.CharField()
    fragrance_free = serializers.BooleanField()
    non_comedogenic = serializers.BooleanField()
    spf = serializers.IntegerField(allow_null=True)
    price = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    size_ml = serializers.IntegerField(allow_null=True)
    description = serializers.CharField()
    concerns = serializers.ListField(child=serializers.CharField())
    ingredients = IngredientBriefOut(many=True, help_text="In INCI order.")


class WarningOut(api_serializers.Serializer):
    code = serializers.CharField(help_text="Rule code, e.g. `retinoid_with_acid`.")
    severity = serializers.ChoiceField(choices=["info", "warning", "severe"])
    reason = serializers.CharField()
    advice = serializers.CharField()
    period = serializers.CharField(help_text="`am`, `pm`, `weekly`, `am+pm`, ...")
    steps = serializers.ListField(
        child=serializers.UUIDField(),
        help_text="Step ids concerned (may be in another routine).",
    )
    product_slugs = serializers.ListField(child=serializers.CharField())
    ingredients = serializers.ListField(child=serializers.CharField())


class StepProductOut(api_serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.SlugField()
    brand = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()


class StepOut(api_serializers.Serializer):
    id = serializers.UUIDField()
    position = serializers.IntegerField()
    step_kind = serializers.ChoiceField(choices=STEP_KINDS)
    name = serializers.CharField()
    product = StepProductOut(allow_null=True)
    days_of_week = serializers.ListField(
        child=serializers.IntegerField(), allow_null=True
    )
    every_n_days = serializers.IntegerField(allow_null=True)
    start_date = serializers.DateField(allow_null=True)
    note = serializers.CharField()
    reason = serializers.CharField(help_text="Why a recommended step was chosen.")


class RoutineOut(api_serializers.Serializer):
    id = serializers.UUIDField()
    period = serializers.ChoiceField(choices=PERIODS)
    name = serializers.CharField()
    reminder_time = LocalTimeField(
        allow_null=True, help_text="Local time in the user's time zone."
    )
    custom_order = serializers.BooleanField()
    source = serializers.ChoiceField(choices=Routine.Source.choices)
    analysis = serializers.UUIDField(allow_null=True)
    notes = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    steps = StepOut(many=True)
    has_severe_warning = serializers.BooleanField()
    warnings = WarningOut(many=True)


class GeneratedOut(api_serializers.Serializer):
    analysis = serializers.UUIDField(allow_null=True)
    focus = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField())
    routines = RoutineOut(many=True)


class CheckInOut(api_serializers.Serializer):
    id = serializers.UUIDField()
    step = serializers.UUIDField()
    date = serializers.DateField()
    created_at = serializers.DateTimeField()


class CheckInResultOut(api_serializers.Serializer):
    date = serializers.DateField()
    created = serializers.IntegerField(help_text="New check-ins (0 when repeated).")
    check_ins = CheckInOut(many=True, help_text="All check-ins of that day.")


class AdherenceOut(api_serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    days = serializers.IntegerField()
    scheduled_days = serializers.IntegerField()
    completed_days = serializers.IntegerField()
    scheduled_steps = serializers.IntegerField()
    completed_steps = serializers.IntegerField()
    completion_rate = serializers.FloatField(help_text="0..1, over scheduled steps.")
    current_streak = serializers.IntegerField()
    longest_streak = serializers.IntegerField()


# ------------------------------------------------------------------------------
# Input
# ------------------------------------------------------------------------------
class StepIn(api_serializers.Serializer):
    id = serializers.UUIDField(
        required=False, help_text="An existing step of this routine, to keep it."
    )
    product = serializers.UUIDField(required=False, allow_null=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    step_kind = serializers.ChoiceField(choices=STEP_KINDS, required=False)
    days_of_week = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        allow_null=True,
        min_length=1,
        max_length=7,
        help_text="0 = Monday .. 6 = Sunday; omit for every day.",
    )
    every_n_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=90
    )
    start_date = serializers.DateField(
        required=False, allow_null=True, help_text="First day of every_n_days."
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def validate(self, attrs):
        if attrs.get("days_of_week") and attrs.get("every_n_days"):
            raise serializers.ValidationError(
                "Give days_of_week or every_n_days, not both.", code="two_schedules"
            )
        if not attrs.get("product"):
            if not attrs.get("name"):
                raise serializers.ValidationError(
                    {"name": "A step without a product needs a name."},
                    code="name_required",
                )
            if not attrs.get("step_kind"):
                raise serializers.ValidationError(
                    {"step_kind": "A step without a product needs a step kind."},
                    code="step_kind_required",
                )
        if attrs.get("days_of_week"):
            attrs["days_of_week"] = sorted(set(attrs["days_of_week"]))
        return attrs


class RoutineIn(api_serializers.Serializer):
    period = serializers.ChoiceField(choices=PERIODS)
    name = serializers.CharField(max_length=120)
    reminder_time = LocalTimeField(
        required=False, allow_null=True, help_text="Local time, e.g. `07:30`."
    )
    custom_order = serializers.BooleanField(
        required=False,
        help_text="Keep the steps in the given order instead of the layering order.",
    )
    steps = StepIn(many=True, required=False, max_length=20)


class GenerateIn(api_serializers.Serializer):
    analysis = serializers.UUIDField(
        required=False, help_text="One of your completed analyses; default latest."
    )


class CheckInIn(api_serializers.Serializer):
    steps = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=20
    )
    date = serializers.DateField(
        required=False, help_text="Local date; default today in your time zone."
    )


class AdherenceQuery(api_serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=365, default=30)
