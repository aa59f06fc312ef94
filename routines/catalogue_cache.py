"""Cached catalogue responses, invalidated at once by a version key.

Every list and detail response of the catalogue is cached under a key holding the
current catalogue version. Any save or delete of an Ingredient, Product or
ProductIngredient (admin, shell, services: all go through model signals, see
``routines.signals``) sets a new version, so old entries are never read again and
simply expire. A Redis outage is ignored (the cache is configured with
IGNORE_EXCEPTIONS): responses are then built from the database every time.
"""

import hashlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "routines:catalogue:version"


def catalogue_version() -> str:
    """The current catalogue version; a new one is made if the cache lost it."""
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        # add(): two processes that both found it missing agree on one version.
        if not cache.add(VERSION_KEY, version, timeout=None):
            version = cache.get(VERSION_KEY) or version
    return version


def bump_catalogue_version() -> None:
    """Invalidate every cached catalogue response, now and once more after commit."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    # A reader between the first bump and the commit may cache the old rows under
    # the new version; the second bump makes that entry unreachable.
    transaction.on_commit(
        lambda: cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    )


def response_key(kind: str, path: str, params: list[tuple[str, list[str]]]) -> str:
    """Cache key of one catalogue response: version, kind and normalised query.

    ``params`` holds only parameters the view knows, values already normalised: an
    anonymous client must not be able to mint new keys with made-up parameters.
    """
    query = "&".join(f"{k}={','.join(v)}" for k, v in sorted(params))
    digest = hashlib.sha256(f"{path}?{query}".encode()).hexdigest()[:32]
    return f"routines:catalogue:{catalogue_version()}:{kind}:{digest}"


def vocabulary() -> frozenset[str]:
    """Every lower-case INCI name, common name, function and concern of the catalogue.

    Filter values outside it are answered without caching, so the number of cached
    responses is bounded by the catalogue, not by what clients type.
    """
    from routines.models import Ingredient

    key = f"routines:catalogue:{catalogue_version()}:vocabulary"
    words = cache.get(key)
    if words is None:
        found = set()
        for inci, common, functions, concerns in Ingredient.objects.values_list(
            "inci", "common_names", "functions", "concerns"
        ):
            found.add(inci.lower())
            found.update(w.lower() for w in (*common, *functions, *concerns))
        words = sorted(found)
        put(key, words)
    return frozenset(words)


def get(key: str):
    return cache.get(key)


def put(key: str, data) -> None:
    cache.set(key, data, timeout=settings.ROUTINES_CATALOGUE_CACHE_SECONDS)


def response_etag(request, *args, **kwargs) -> str:
    """ETag of a catalogue answer: the catalogue version, the URL and Accept.

    Everything a catalogue answer depends on, so `If-None-Match` is answered 304
    from one cache read, without building or fetching the body. A version lost with
    the cache gives new ETags: a full answer, never a stale 304.
    """
    parts = [
        catalogue_version(),
        request.get_host(),
        request.get_full_path(),
        request.META.get("HTTP_ACCEPT", ""),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
