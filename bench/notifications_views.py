"""Bench-only view: the notification feed without DRF (bench/urls.py, bench.settings).

It runs the same queries as ``GET notifications/`` (the selector's feed, its count
and its first page of 20) after the same JWT check, and answers the same JSON shape
with Django's JsonResponse, so bench/api_bench.py can measure what the DRF layers
(negotiation, throttling, filtering, pagination, serializer, renderer) cost. Query
parameters (``unread``, ``page``) are ignored: it always answers the first page.
"""

from django.http import JsonResponse
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.auth import JWTAuthentication
from notifications import selectors
from notifications.serializers import notification_data

PAGE_SIZE = 20


def notifications_list(request):
    """GET: the bearer's in-app feed, newest first, as one page."""
    try:
        found = JWTAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        found = None
    if found is None:
        return JsonResponse({"detail": "not authenticated"}, status=401)
    feed = selectors.feed_for(user=found[0])
    count = feed.count()
    page = list(feed[:PAGE_SIZE]) if count else []
    body = {
        "count": count,
        "next": request.build_absolute_uri(f"{request.path}?page=2")
        if count > PAGE_SIZE
        else None,
        "previous": None,
        "results": [notification_data(n) for n in page],
    }
    return JsonResponse(body)
