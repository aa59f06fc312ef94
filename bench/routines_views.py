"""Bench-only view: the routines list without DRF (bench/urls.py, bench.settings).

It runs the same selector, warnings and output functions as ``GET routines/`` and
the same JWT check, and answers with Django's JsonResponse, so
bench/api_bench.py can measure what the DRF layers (negotiation, throttling,
pagination, renderer) cost.
"""

from django.http import JsonResponse
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.auth import JWTAuthentication
from routines import selectors, services
from routines.serializers import routine_data


def routines_list(request):
    """GET: the bearer's routines with warnings, as one page."""
    try:
        found = JWTAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        found = None
    if found is None:
        return JsonResponse({"detail": "not authenticated"}, status=401)
    user = found[0]
    routines = list(selectors.routines_for(user=user))
    warnings = services.routine_warnings(user=user, routines=routines)
    body = {
        "count": len(routines),
        "next": None,
        "previous": None,
        "results": [routine_data(r, warnings[r.pk]) for r in routines[:20]],
    }
    return JsonResponse(body)
