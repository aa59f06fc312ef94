"""Which address a request comes from, for every per-IP limit.

A client can put anything in X-Forwarded-For, so by default only the socket's address
(REMOTE_ADDR) counts. Behind proxies that append to the header, TRUSTED_PROXIES says
how many there are; the address that many entries from the right is the one the
outermost trusted proxy saw (README, security section).
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """REMOTE_ADDR, or the X-Forwarded-For entry TRUSTED_PROXIES from the right."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXIES
    if hops <= 0:
        return remote_addr
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    # Fewer entries than proxies: the request did not come through all of them, and
    # whatever is left of the header was written by the client.
    if len(forwarded) < hops:
        return remote_addr
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr


class ReleaseViewMiddleware:
    """Unlinks each rendered DRF response from its view, Request and itself.

    DRF links a request's view, Request and Response in reference cycles (the view
    holds both, both contexts hold the view back, a viewset binds its actions to
    itself). Reference counting then frees none of what the request built (the
    page's rows, the response's data), so it waits for Python's cyclic collector,
    which runs several times as often and walks it all: on the list endpoints about
    a third of the CPU DRF spent beyond a bare Django view (bench/api_bench.py).
    The response is rendered by then and keeps its data, headers and content; the
    middleware inside it has seen it whole, the middleware outside it gets it
    unlinked (none of them reads the view). It sits inside ConditionalGetMiddleware,
    which replaces an unchanged answer by a 304 that no longer names it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        context = getattr(response, "renderer_context", None)
        if context:
            context.pop("response", None)
            drf_request, view = context.get("request"), context.pop("view", None)
            if drf_request is not None:
                drf_request.parser_context.pop("view", None)
                drf_request.parser_context.pop("request", None)
            if view is not None:
                vars(view).clear()  # its request, response, paginator, bound actions
        return response
