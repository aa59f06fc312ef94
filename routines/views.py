"""The routines API: catalogue (cached), own routines, generation, check-ins."""

from __future__ import annotations

import django_filters
from django import forms
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import filters, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from routines import catalogue_cache, errors, selectors, services
from routines.models import Ingredient, Product, ProductIngredient, Routine
from routines.recommend import SKIN_TYPES
from routines.serializers import (
    AdherenceOut,
    AdherenceQuery,
    CheckInIn,
    CheckInOut,
    CheckInResultOut,
    GeneratedOut,
    GenerateIn,
    IngredientOut,
    ProductOut,
    RoutineIn,
    RoutineOut,
    check_in_data,
    ingredient_data,
    product_data,
    routine_data,
)
from skincare.api import UUID_LOOKUP_REGEX, StrictBooleanFilter
from skincare.errors import api_error

# ------------------------------------------------------------------------------
# Catalogue
# ------------------------------------------------------------------------------
# Anonymous filters take a bounded number of values (README, Security).
MAX_FILTER_VALUES = 10
MAX_FILTER_VALUE_LENGTH = 100
MAX_SEARCH_LENGTH = 100
MAX_SEARCH_TERMS = 5


def _named(value: str) -> list[str]:
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
        names = _named(value or "")
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
        for each in _named(value):
            ids = selectors.ingredient_ids_named([each])
            queryset = queryset.filter(pk__in=_with_ingredients(ids))
        return queryset

    def filter_exclude_ingredient(self, queryset, name, value):
        ids = selectors.ingredient_ids_named(_named(value))
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


@extend_validation_errors(["null_characters_not_allowed"], methods=["get"])
class CachedCatalogueViewSet(viewsets.ReadOnlyModelViewSet):
    """Read-only catalogue; whole responses cached under the catalogue version."""

    permission_classes = [AllowAny]
    lookup_value_regex = UUID_LOOKUP_REGEX
    filter_backends = [
        django_filters.rest_framework.DjangoFilterBackend,
        BoundedSearchFilter,
    ]
    # Filters whose values are catalogue words (names, functions, concerns).
    word_filters = ("concern", "function", "ingredient", "exclude_ingredient")
    to_data = staticmethod(lambda obj: {})

    def _cache_key(self, kind: str) -> str | None:
        """The response's cache key from known parameters only; None: don't cache.

        Free-text search and filter values the catalogue does not know are answered
        from the database, so clients cannot fill the cache with made-up queries.
        """
        params = self.request.query_params
        if params.get("search", "").strip():
            return None
        known = {*self.filterset_class.base_filters, "page", "page_size"}
        parts, words = [], set()
        for name in known & params.keys():
            values = [v.strip() for v in params.getlist(name)]
            if name in self.word_filters:
                values = sorted({w.lower() for v in values for w in _named(v)})
                words.update(values)
            parts.append((name, values))
        if words and not words <= catalogue_cache.vocabulary():
            return None
        request = self.request
        return catalogue_cache.response_key(
            kind, request.get_host() + request.path, parts
        )

    def _cached(self, kind: str, build) -> Response:
        key = self._cache_key(kind)
        data = None if key is None else catalogue_cache.get(key)
        if data is None:
            data = build()
            if key is not None:
                catalogue_cache.put(key, data)
        return Response(data)

    def list(self, request, *args, **kwargs):
        def build():
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
            return self.get_paginated_response([self.to_data(o) for o in page]).data

        return self._cached("list", build)

    def retrieve(self, request, *args, **kwargs):
        return self._cached("detail", lambda: self.to_data(self.get_object()))


@extend_schema(tags=["catalogue"])
class ProductViewSet(CachedCatalogueViewSet):
    """Catalogue products with their INCI lists (public, cached)."""

    queryset = Product.objects.none()
    serializer_class = ProductOut
    filterset_class = ProductFilter
    search_fields = [
        "name",
        "brand",
        "description",
        "product_ingredients__ingredient__inci",
    ]
    to_data = staticmethod(product_data)

    def get_queryset(self):
        return selectors.active_products()


@extend_schema(tags=["catalogue"])
class IngredientViewSet(CachedCatalogueViewSet):
    """Ingredients with what they treat and the conflict rules they meet."""

    queryset = Ingredient.objects.none()
    serializer_class = IngredientOut
    filterset_class = IngredientFilter
    search_fields = ["inci", "description"]
    to_data = staticmethod(ingredient_data)

    def get_queryset(self):
        return selectors.ingredients()


# ------------------------------------------------------------------------------
# Routines
# ------------------------------------------------------------------------------
ROUTINE_400 = OpenApiResponse(
    description="Validation errors (field `code`s) and `unknown_product`, "
    "`unknown_step`, `too_many_routines`, `two_schedules`, `name_required`, "
    "`step_kind_required`."
)


@extend_schema(tags=["routines"])
class RoutineViewSet(viewsets.GenericViewSet):
    """The signed-in user's routines; every response carries conflict warnings."""

    queryset = Routine.objects.none()
    serializer_class = RoutineOut
    lookup_value_regex = UUID_LOOKUP_REGEX
    filter_backends: list = []

    def _all(self) -> list[Routine]:
        return list(selectors.routines_for(user=self.request.user))

    def _respond(self, routine_id, code=status.HTTP_200_OK) -> Response:
        routines = self._all()
        warnings = services.routine_warnings(user=self.request.user, routines=routines)
        routine = next(r for r in routines if r.pk == routine_id)
        return Response(routine_data(routine, warnings[routine.pk]), status=code)

    def _own(self) -> Routine:
        routine = (
            Routine.objects.filter(user=self.request.user, pk=self.kwargs["pk"])
            .select_related("user")
            .first()
        )
        if routine is None:
            raise Http404
        return routine

    def list(self, request):
        """Own routines, oldest first, each with its warnings."""
        routines = self._all()
        warnings = services.routine_warnings(user=request.user, routines=routines)
        page = self.paginate_queryset(routines)
        return self.get_paginated_response(
            [routine_data(r, warnings[r.pk]) for r in page]
        )

    @extend_schema(request=RoutineIn, responses={201: RoutineOut, 400: ROUTINE_400})
    def create(self, request):
        """Create a routine; conflicts never block saving, they are warnings."""
        data = self._valid(RoutineIn, partial=False)
        try:
            routine = services.create_routine(user=request.user, data=data)
        except errors.RoutineError as exc:
            raise api_error(exc) from exc
        return self._respond(routine.pk, status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        """One own routine with its warnings."""
        return self._respond(self._own().pk)

    @extend_schema(request=RoutineIn, responses={200: RoutineOut, 400: ROUTINE_400})
    def update(self, request, pk=None):
        """Replace a routine (steps with an `id` keep their check-in history)."""
        return self._change(partial=False)

    @extend_schema(request=RoutineIn, responses={200: RoutineOut, 400: ROUTINE_400})
    def partial_update(self, request, pk=None):
        """Change some fields; `steps`, when given, is the whole new list."""
        return self._change(partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Delete a routine with its steps, check-ins and reminders."""
        services.delete_routine(routine=self._own())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _valid(self, serializer_class, *, partial: bool, data=None):
        serializer = serializer_class(
            data=self.request.data if data is None else data, partial=partial
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _change(self, *, partial: bool) -> Response:
        routine = self._own()
        data = self._valid(RoutineIn, partial=partial)
        if not partial:
            data.setdefault("reminder_time", None)
            data.setdefault("custom_order", False)
            data.setdefault("steps", [])
        try:
            services.update_routine(routine=routine, data=data)
        except errors.RoutineError as exc:
            raise api_error(exc) from exc
        return self._respond(routine.pk)

    @extend_schema(
        request=GenerateIn,
        responses={
            201: GeneratedOut,
            400: OpenApiResponse(
                description="`no_analysis`: no completed analysis and no declared "
                "skin type; `analysis_not_usable` (field `analysis`): not one of "
                "your completed analyses; `recommendation_failed`."
            ),
        },
    )
    @action(detail=False, methods=["post"])
    def generate(self, request):
        """Build recommended AM, PM and weekly routines; they replace generated ones."""
        data = self._valid(GenerateIn, partial=False)
        try:
            generated = services.generate_routines(
                user=request.user, analysis_id=data.get("analysis")
            )
        except errors.RoutineError as exc:
            raise api_error(exc) from exc
        routines = self._all()
        warnings = services.routine_warnings(user=request.user, routines=routines)
        new = {r.pk for r in generated.routines}
        body = {
            "analysis": str(generated.analysis_id) if generated.analysis_id else None,
            "focus": list(generated.focus),
            "notes": list(generated.notes),
            "routines": [
                routine_data(r, warnings[r.pk]) for r in routines if r.pk in new
            ],
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        request=None,
        responses={200: CheckInOut(many=True)},
        description="Check-in history of the routine, newest day first.",
    )
    @extend_schema(
        methods=["POST"],
        request=CheckInIn,
        responses={
            200: CheckInResultOut,
            201: CheckInResultOut,
            400: OpenApiResponse(
                description="`date_in_future`, `date_too_old` (field `date`), "
                "`unknown_step` (field `steps`)."
            ),
        },
        description="Mark steps done on a day (default today, local). 201 when "
        "something new was recorded, 200 when it was all there already.",
    )
    @action(detail=True, methods=["get", "post"], url_path="check-ins")
    def check_ins(self, request, pk=None):
        routine = self._own()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.check_ins_for(routine=routine))
            return self.get_paginated_response([check_in_data(c) for c in page])
        data = self._valid(CheckInIn, partial=False)
        try:
            result = services.check_in(
                routine=routine, step_ids=data["steps"], day=data.get("date")
            )
        except errors.RoutineError as exc:
            raise api_error(exc) from exc
        body = {
            "date": result.date.isoformat(),
            "created": result.created,
            "check_ins": [check_in_data(c) for c in result.check_ins],
        }
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(body, status=code)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "days",
                OpenApiTypes.INT,
                description="Window in days ending today (local), 1-365; default 30.",
            )
        ],
        responses={200: AdherenceOut},
    )
    @action(detail=True, methods=["get"])
    def adherence(self, request, pk=None):
        """Completion rate and current / longest streak over scheduled days."""
        routine = self._own()
        days = self._valid(AdherenceQuery, partial=False, data=request.query_params)[
            "days"
        ]
        result = selectors.adherence(
            routine=routine, end=services.local_today(request.user), days=days
        )
        return Response(
            {
                **result.__dict__,
                "start": result.start.isoformat(),
                "end": result.end.isoformat(),
            }
        )
