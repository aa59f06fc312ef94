"""What the bare comparison views (bench/*_views.py) share with the DRF endpoints.

The same bearer check (accounts.auth.JWTAuthentication), the same per-user rate
limit counter in Redis (skincare.throttling.UserRateThrottle: a production endpoint
needs one, DRF or not) and the same JSON bytes (skincare.renderers.ORJSONRenderer),
so that bench/api_bench.py measures what the DRF layers themselves cost: request
wrapping, content negotiation, permission and throttle plumbing, pagination classes,
response finalisation.
"""

from django.http import HttpResponse, JsonResponse
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.auth import JWTAuthentication
from skincare.renderers import ORJSONRenderer
from skincare.throttling import UserRateThrottle

PAGE_SIZE = 20
RENDERER = ORJSONRenderer()


def bearer(request):
    """The bearer's user, or the response refusing the request."""
    drf_request = Request(request)
    try:
        found = JWTAuthentication().authenticate(drf_request)
    except AuthenticationFailed:
        found = None
    if found is None:
        return None, JsonResponse({"detail": "not authenticated"}, status=401)
    drf_request.user = found[0]
    if not UserRateThrottle().allow_request(drf_request, None):
        return None, JsonResponse({"detail": "throttled"}, status=429)
    return found[0], None


def first_page(queryset, *, count_first: bool = True) -> tuple[int, list]:
    """The count and rows of page 1, with the queries of the view's paginator.

    ``count_first``: Django's Paginator (COUNT, then the page); otherwise the
    routines list's (routines.views.OnePagePaginator: COUNT only past one page).
    """
    if count_first:
        count = queryset.count()
        return count, list(queryset[:PAGE_SIZE])
    rows = list(queryset[: PAGE_SIZE + 1])
    count = len(rows) if len(rows) <= PAGE_SIZE else queryset.count()
    return count, rows[:PAGE_SIZE]


def page_body(request, count: int, results: list) -> dict:
    return {
        "count": count,
        "next": request.build_absolute_uri(f"{request.path}?page=2")
        if count > PAGE_SIZE
        else None,
        "previous": None,
        "results": results,
    }


def json_response(body: dict) -> HttpResponse:
    return HttpResponse(RENDERER.render(body), content_type="application/json")
