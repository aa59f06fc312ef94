"""Bench-only view: the routines list without DRF (bench/urls.py, bench.settings).

It runs the same queries as ``GET routines/`` (the bearer, the first page of
routines, counted only past one page as routines.views.OnePagePaginator does, their
step rows), the same stored-warnings check (``services.routines_with_warnings``),
output function and JSON encoder, after the same JWT check and rate limit
(bench/bare.py), so bench/api_bench.py can measure what the DRF layers cost. Query
parameters are ignored: it always answers the first page.
"""

from bench.bare import bearer, first_page, json_response, page_body
from routines import selectors, services
from routines.serializers import routine_data


def routines_list(request):
    """GET: the bearer's routines with their stored warnings, as one page."""
    user, refused = bearer(request)
    if refused:
        return refused
    count, page = first_page(selectors.routines_for(user=user), count_first=False)
    page = services.routines_with_warnings(user=user, routines=page)
    steps = selectors.step_rows(routines=page)
    results = [routine_data(r, steps[r.pk], raw=True) for r in page]
    return json_response(page_body(request, count, results))
