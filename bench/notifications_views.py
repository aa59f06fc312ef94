"""Bench-only view: the notification feed without DRF (bench/urls.py, bench.settings).

It runs the same queries as ``GET notifications/`` (the bearer, the feed's count
and its first page of 20) and answers the same JSON bytes, after the same JWT check
and rate limit (bench/bare.py), so bench/api_bench.py can measure what the DRF
layers (negotiation, filtering, pagination, renderer plumbing) cost. Query
parameters (``unread``, ``page``) are ignored: it always answers the first page.
"""

from bench.bare import bearer, first_page, json_response, page_body
from notifications import selectors
from notifications.serializers import notification_data


def notifications_list(request):
    """GET: the bearer's in-app feed, newest first, as one page."""
    user, refused = bearer(request)
    if refused:
        return refused
    count, page = first_page(selectors.feed_for(user=user))
    return json_response(
        page_body(request, count, [notification_data(n) for n in page])
    )
