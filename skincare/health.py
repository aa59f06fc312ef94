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


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    if settings.REDIS_URL:
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
    "landmark_model": check_landmark_model,
    "face_detector": check_face_detector,
}


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    checks = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception as exc:
            logger.warning("readiness check %s failed: %s", name, exc)
            checks[name] = "down"
        else:
            checks[name] = "ok"
    down = sorted(name for name, state in checks.items() if state != "ok")
    status = 503 if down else 200
    return JsonResponse(
        {"status": "down" if down else "ok", "checks": checks, "down": down},
        status=status,
    )
