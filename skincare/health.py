"""Liveness and readiness probes for load balancers."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


class NotReady(Exception):
    """A check failed for a reason the probe may name (no secrets, no addresses)."""


def check_database() -> None:
    pool = connection.pool if settings.DATABASE_POOL else None
    if pool is None or connection.connection is not None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return
    # Ask the pool with a short wait of our own: through Django the probe would wait
    # DATABASE_POOL_TIMEOUT for a connection and outlast the load balancer's timeout.
    from psycopg_pool import PoolTimeout

    timeout = settings.HEALTH_DATABASE_TIMEOUT
    pool.open()
    try:
        conn = pool.getconn(timeout=timeout)
    except PoolTimeout:
        stats = pool.get_stats()
        if stats.get("pool_size", 0) >= pool.max_size and not stats.get(
            "pool_available"
        ):
            raise NotReady(
                f"connection pool exhausted: all {pool.max_size} connections in use, "
                f"none free within {timeout:g} s"
            ) from None
        raise NotReady(f"no connection to the database within {timeout:g} s") from None
    try:
        conn.execute("SELECT 1")
    finally:
        pool.putconn(conn)


def check_cache() -> None:
    if settings.CACHE_IS_REDIS:
        from django_redis import get_redis_connection

        get_redis_connection("default").ping()
        return
    cache.set("health:ready", "1", 5)
    if cache.get("health:ready") != "1":
        raise RuntimeError("cache did not return what was stored")


def check_broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    from skincare.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=2)


def check_storage() -> None:
    """The media store: the bucket answers to our credentials (or the folder is
    writable). Bad credentials, a missing bucket and a dead store all fail it."""
    from skincare.storage import StorageUnavailable, check_media_storage

    try:
        check_media_storage()
    except StorageUnavailable as exc:
        raise NotReady(exc.message) from exc


def check_push() -> None:
    """Each configured push service (FCM, APNs) has a credential that works."""
    from push.services import PushChannelFailing, check_push_channels

    try:
        check_push_channels()
    except PushChannelFailing as exc:
        raise NotReady(str(exc)) from exc


def check_landmark_model() -> None:
    from analysis.services import check_engine

    check_engine()


def check_face_detector() -> None:
    from analysis import engine

    engine.check_detector(engine.detector_path(settings.LANDMARK_MODEL_PATH))


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
    "landmark_model": check_landmark_model,
    "face_detector": check_face_detector,
    "push": check_push,
}
# Reported (and exported as metrics) but not taking the web out of the load balancer:
# the API serves without them.
ADVISORY_CHECKS = {"push"}


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    checks = {}
    reasons = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception as exc:
            logger.warning("readiness check %s failed: %s", name, exc)
            checks[name] = "down"
            if isinstance(exc, NotReady):
                reasons[name] = str(exc)
        else:
            checks[name] = "ok"
    failed = {name for name, state in checks.items() if state != "ok"}
    down = sorted(failed - ADVISORY_CHECKS)
    degraded = sorted(failed & ADVISORY_CHECKS)
    status = 503 if down else 200
    body = {
        "status": "down" if down else "degraded" if degraded else "ok",
        "checks": checks,
        "down": down,
    }
    if degraded:
        body["degraded"] = degraded
    if reasons:
        body["reasons"] = reasons
    return JsonResponse(body, status=status)
