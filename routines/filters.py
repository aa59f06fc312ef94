"""Filters of the catalogue API: bounded name lists and search, product and
ingredient filter sets."""

from __future__ import annotations

import django_filters
from django import forms
from rest_framework import filters
from rest_framework.exceptions import ErrorDetail, ValidationError

from routines import selectors
from routines.models import CheckIn, Ingredient, Product, ProductIngredient, Routine
from routines.recommend import SKIN_TYPES
from skincare.filters import StrictBooleanFilter, UpdatedSinceFilter

# Anonymous filters take a bounded number of values (README, Security).
MAX_FILTER_VALUES = 10
MAX_FILTER_VALUE_LENGTH = 100
MAX_SEARCH_LENGTH = 100
MAX_SEARCH_TERMS = 5


def named_values(value: str) -> list[str]:
    """The non-empty, stripped values of a comma-separated parameter."""
    return [v for v in (p.strip() for p in value.split(",")) if v]


class NameListField(forms.CharField):
    """Comma-separated names: at most MAX_FILTER_VALUES, each of bounded length."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "max_length", MAX_FILTER_VALUES * (MAX_FILTER_VALUE_LENGTH + 1)
        )
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        names = named_values(value or "")
        if len(names) > MAX_FILTER_VALUES:
            raise forms.ValidationError(
                f"Give at most {MAX_FILTER_VALUES} comma-separated values.",
                code="too_many_values",
            )
        if any(len(name) > MAX_FILTER_VALUE_LENGTH for name in names):
            raise forms.ValidationError(
                f"Each value has at most {MAX_FILTER_VALUE_LENGTH} characters.",
                code="value_too_long",
            )


class NameListFilter(django_filters.CharFilter):
    field_class = NameListField


class BoundedSearchFilter(filters.SearchFilter):
    """DRF's search with a bounded query: each term adds joins to the SQL."""

    def get_search_terms(self, request):
        value = request.query_params.get(self.search_param, "")
        terms = super().get_search_terms(request)
        if len(value) > MAX_SEARCH_LENGTH or len(terms) > MAX_SEARCH_TERMS:
            raise ValidationError(
                {
                    self.search_param: [
                        ErrorDetail(
                            f"At most {MAX_SEARCH_TERMS} words and "
                            f"{MAX_SEARCH_LENGTH} characters.",
                            code="search_too_long",
                        )
                    ]
                }
            )
        return terms


def _with_ingredients(ids) -> object:
    return ProductIngredient.objects.filter(ingredient_id__in=ids).values("product_id")


class ProductFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=Product.CATEGORIES)
    concern = django_filters.CharFilter(
        method="filter_concern",
        max_length=MAX_FILTER_VALUE_LENGTH,
        help_text="Has an ingredient treating it, e.g. `lines`.",
    )
    skin_type = django_filters.ChoiceFilter(
        choices=[(s, s) for s in (*SKIN_TYPES, "sensitive")],
        method="filter_skin_type",
    )
    ingredient = NameListFilter(
        method="filter_ingredient",
        help_text="Contains all of these (comma-separated INCI, common names or "
        f"functions such as `retinoid`; at most {MAX_FILTER_VALUES}).",
    )
    exclude_ingredient = NameListFilter(
        method="filter_exclude_ingredient",
        help_text="Contains none of these (INCI, common names or functions, "
        f"e.g. `fragrance`; at most {MAX_FILTER_VALUES}).",
    )
    fragrance_free = StrictBooleanFilter()

    class Meta:
        model = Product
        fields = ["category", "fragrance_free"]

    def filter_concern(self, queryset, name, value):
        treating = Ingredient.objects.filter(
            selectors.json_list_contains("concerns", value.strip().lower())
        ).values("id")
        return queryset.filter(pk__in=_with_ingredients(treating))

    def filter_skin_type(self, queryset, name, value):
        return queryset.filter(selectors.json_list_contains("skin_types", value))

    def filter_ingredient(self, queryset, name, value):
        for each in named_values(value):
            ids = selectors.ingredient_ids_named([each])
            queryset = queryset.filter(pk__in=_with_ingredients(ids))
        return queryset

    def filter_exclude_ingredient(self, queryset, name, value):
        ids = selectors.ingredient_ids_named(named_values(value))
        return queryset.exclude(pk__in=_with_ingredients(ids)) if ids else queryset


class IngredientFilter(django_filters.FilterSet):
    concern = django_filters.CharFilter(
        method="filter_concern",
        max_length=MAX_FILTER_VALUE_LENGTH,
        help_text="Treats this concern.",
    )
    function = django_filters.CharFilter(
        method="filter_function",
        max_length=MAX_FILTER_VALUE_LENGTH,
        help_text="Has this function, e.g. `retinoid`.",
    )

    class Meta:
        model = Ingredient
        fields: list[str] = []

    def filter_concern(self, queryset, name, value):
        return queryset.filter(selectors.json_list_contains("concerns", value))

    def filter_function(self, queryset, name, value):
        return queryset.filter(selectors.json_list_contains("functions", value))


class RoutineFilter(django_filters.FilterSet):
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Routine
        fields = ["updated_since"]


class CheckInFilter(django_filters.FilterSet):
    # Check-ins never change once made: their creation time is their last change.
    updated_since = UpdatedSinceFilter(
        field_name="created_at",
        help_text="Only check-ins made at or after this time (ISO 8601 with offset); "
        "pass the largest `created_at` of the previous sync minus a minute.",
    )

    class Meta:
        model = CheckIn
        fields = ["updated_since"]
