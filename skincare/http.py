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
