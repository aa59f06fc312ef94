"""The routines API: catalogue (cached), own routines, generation, check-ins."""

from __future__ import annotations

import django_filters
from django.core.paginator import Paginator
from django.http import Http404
from django.utils.decorators import method_decorator
from django.views.decorators.http import condition
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from idempotency.api import idempotent
from routines import catalogue_cache, selectors, services
from routines.filters import (
    BoundedSearchFilter,
    CheckInFilter,
    IngredientFilter,
    ProductFilter,
    RoutineFilter,
    named_values,
)
from routines.models import CheckIn, Ingredient, Product, Routine
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
from skincare.api import UUID_LOOKUP_REGEX
from skincare.pagination import PageNumberPagination
from skincare.renderers import ORJSONRenderer


# ------------------------------------------------------------------------------
# Catalogue
# ------------------------------------------------------------------------------
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
                values = sorted({w.lower() for v in values for w in named_values(v)})
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

    @method_decorator(condition(etag_func=catalogue_cache.response_etag))
    def list(self, request, *args, **kwargs):
        def build():
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
            return self.get_paginated_response([self.to_data(o) for o in page]).data

        return self._cached("list", build)

    @method_decorator(condition(etag_func=catalogue_cache.response_etag))
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


def writes_stored_json(request) -> bool:
    """Whether the response's renderer writes stored JSON text as is (orjson.Fragment).

    The project's orjson renderer does on its fast path; the browsable API and a
    requested ``; indent=`` use the stock encoder, which needs decoded values.
    """
    renderer = getattr(request, "accepted_renderer", None)
    return isinstance(renderer, ORJSONRenderer) and renderer.is_fast(
        request.accepted_media_type, {}
    )


class OnePagePaginator(Paginator):
    """Django's Paginator that skips COUNT when the first page holds every row.

    It asks page 1 for one row more than the page: if that row is missing, the
    count is known. A user has at most ROUTINES_MAX_PER_USER routines (20 by
    default, the default page size), so the routines list is one page and one query.
    """

    def page(self, number):
        if str(number) != "1":
            return super().page(number)
        rows = list(self.object_list[: self.per_page + 1])
        if len(rows) <= self.per_page:
            self.__dict__["count"] = len(rows)  # the cached_property's value
        return self._get_page(rows[: self.per_page], 1, self)


class RoutinePagination(PageNumberPagination):
    django_paginator_class = OnePagePaginator


@extend_schema(tags=["routines"])
class RoutineViewSet(viewsets.GenericViewSet):
    """The signed-in user's routines; every response carries conflict warnings."""

    queryset = Routine.objects.none()
    serializer_class = RoutineOut
    lookup_value_regex = UUID_LOOKUP_REGEX
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]
    filterset_class = RoutineFilter
    pagination_class = RoutinePagination

    def _own(self) -> Routine:
        routine = (
            Routine.objects.filter(user=self.request.user, pk=self.kwargs["pk"])
            .select_related("user")
            .first()
        )
        if routine is None:
            raise Http404
        return routine

    def _data(self, routines) -> list[dict]:
        """Routines with their stored warnings (recomputed first if stale)."""
        current = services.routines_with_warnings(
            user=self.request.user, routines=routines
        )
        steps = selectors.step_rows(routines=current)
        raw = writes_stored_json(self.request)
        return [routine_data(r, steps[r.pk], raw=raw) for r in current]

    def _respond(self, routine_id, code=status.HTTP_200_OK) -> Response:
        routines = selectors.routines_for(user=self.request.user).filter(pk=routine_id)
        return Response(self._data(routines)[0], status=code)

    def _valid(self, serializer_class, *, partial: bool, data=None):
        serializer = serializer_class(
            data=self.request.data if data is None else data, partial=partial
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def filter_queryset(self, queryset):
        # Without any of its parameters the FilterSet changes nothing; building and
        # validating its form is a measurable share of the list (bench/api_bench.py).
        params = self.request.query_params
        if not params.keys() & self.filterset_class.base_filters.keys():
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request):
        """Own routines, oldest first, each with its warnings."""
        page = self.paginate_queryset(
            self.filter_queryset(selectors.routines_for(user=request.user))
        )
        return self.get_paginated_response(self._data(page))

    @extend_schema(request=RoutineIn, responses={201: RoutineOut, 400: ROUTINE_400})
    @idempotent()
    def create(self, request):
        """Create a routine; conflicts never block saving, they are warnings."""
        data = self._valid(RoutineIn, partial=False)
        routine = services.create_routine(user=request.user, data=data)
        return self._respond(routine.pk, status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        """One own routine with its warnings."""
        return self._respond(self._own().pk)

    @extend_schema(request=RoutineIn, responses={200: RoutineOut, 400: ROUTINE_400})
    def update(self, request, pk=None):
        """Replace a routine (steps with an `id` keep their check-in history)."""
        routine = self._own()
        data = self._valid(RoutineIn, partial=False)
        services.update_routine(routine=routine, data=data, replace=True)
        return self._respond(routine.pk)

    @extend_schema(request=RoutineIn, responses={200: RoutineOut, 400: ROUTINE_400})
    def partial_update(self, request, pk=None):
        """Change some fields; `steps`, when given, is the whole new list."""
        routine = self._own()
        data = self._valid(RoutineIn, partial=True)
        services.update_routine(routine=routine, data=data)
        return self._respond(routine.pk)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Delete a routine with its steps, check-ins and reminders."""
        services.delete_routine(routine=self._own())
        return Response(status=status.HTTP_204_NO_CONTENT)

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
    @idempotent()
    @action(detail=False, methods=["post"])
    def generate(self, request):
        """Build recommended AM, PM and weekly routines; they replace generated ones."""
        data = self._valid(GenerateIn, partial=False)
        generated = services.generate_routines(
            user=request.user, analysis_id=data.get("analysis")
        )
        new = selectors.routines_for(user=request.user).filter(
            pk__in=[r.pk for r in generated.routines]
        )
        body = {
            "analysis": str(generated.analysis_id) if generated.analysis_id else None,
            "focus": list(generated.focus),
            "notes": list(generated.notes),
            "routines": self._data(new),
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
    @idempotent()
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="check-ins",
        queryset=CheckIn.objects.none(),
        filterset_class=CheckInFilter,
    )
    def check_ins(self, request, pk=None):
        routine = self._own()
        if request.method == "GET":
            page = self.paginate_queryset(
                self.filter_queryset(selectors.check_ins_for(routine=routine))
            )
            return self.get_paginated_response([check_in_data(c) for c in page])
        data = self._valid(CheckInIn, partial=False)
        result = services.check_in(
            routine=routine, step_ids=data["steps"], day=data.get("date")
        )
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
