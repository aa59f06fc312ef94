"""The project's DRF throttles: client IPs from skincare.http, cheap user counters."""

from rest_framework import throttling

from skincare.http import client_ip


class ClientIPMixin:
    """Per-IP keys come from skincare.http.client_ip, never from a forgeable header."""

    def get_ident(self, request) -> str:
        return client_ip(request)


class AnonRateThrottle(ClientIPMixin, throttling.AnonRateThrottle):
    pass


class ScopedRateThrottle(ClientIPMixin, throttling.ScopedRateThrottle):
    pass


class UserRateThrottle(ClientIPMixin, throttling.UserRateThrottle):
    """DRF's user throttle counted in fixed windows with an atomic increment.

    DRF's own keeps every request time of the last window in one cache value, which a
    busy client turns into a large value read and written on each request. A window
    counter stays one integer; the price is that a client may spend up to twice the
    rate across a window boundary. The password limits of accounts/signin.py count
    with it too: an atomic increment holds against a parallel burst, which DRF's
    read-then-write history lets through. Other abuse limits keep DRF's sliding window.
    """

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window_key = f"{self.key}:{int(self.now // self.duration)}"
        # Increment first: one cache round trip for every request but a window's first.
        for _ in range(2):
            try:
                count = self.cache.incr(window_key)
                break
            except ValueError:  # no counter yet: this request opens the window
                if self.cache.add(window_key, 1, self.duration):
                    return True
        else:  # the window ended between add and incr: count this one as its first
            return True
        # None: the cache is unreachable and django-redis ignored it; fail open.
        return count is None or count <= self.num_requests

    def wait(self):
        return self.duration - (self.now % self.duration)
