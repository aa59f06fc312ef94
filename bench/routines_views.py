"""Bench-only view: the routines list without DRF (bench/urls.py, bench.settings).

It runs the same queries as ``GET routines/`` (the selector's routines, their count,
the first page of 20 and its step rows), the same stored-warnings check
(``services.routines_with_warnings``) and output function, after the same JWT check,
and answers with Django's JsonResponse, so bench/api_bench.py can measure what the
DRF layers (negotiation, throttling, pagination, renderer) cost. Query parameters
are ignored: it always answers the first page.
"""

from django.http import JsonResponse
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.auth import JWTAuthentication
from routines import selectors, services
from routines.serializers import routine_data

PAGE_SIZE = 20


def routines_list(request):
    """GET: the bearer's routines with their stored warnings, as one page."""
    try:
        found = JWTAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        found = None
    if found is None:
        return JsonResponse({"detail": "not authenticated"}, status=401)
    user = found[0]
    routines = selectors.routines_for(user=user)
    count = routines.count()
    page = routines[:PAGE_SIZE] if count else []
    page = services.routines_with_warnings(user=user, routines=page)
    steps = selectors.step_rows(routines=page)
    body = {
        "count": count,
        "next": request.build_absolute_uri(f"{request.path}?page=2")
        if count > PAGE_SIZE
        else None,
        "previous": None,
        "results": [routine_data(r, steps[r.pk]) for r in page],
    }
    return JsonResponse(body)
