"""Prometheus metrics: django-prometheus' own plus the platform's, behind a token.

The platform figures (analyses, e-mail deliveries, bookings, reminders, queue length,
readiness) are read at scrape time by one collector running cheap aggregate queries,
so every web process reports the same numbers and nothing is kept in memory.
"""

import hmac
import ipaddress
import logging
import os
from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REMINDER_KINDS = ("routine_reminder", "consultation_reminder")
RECENT = timedelta(hours=1)


def _gauge(name: str, documentation: str, labels=()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=list(labels))


class PlatformCollector(Collector):
    """The platform's own gauges, computed from the database and broker per scrape."""

    NAMES = (
        "skincare_analyses",
        "skincare_analyses_finished_last_hour",
        "skincare_analysis_engine_duration_seconds",
        "skincare_email_deliveries",
        "skincare_email_oldest_pending_age_seconds",
        "skincare_consultations",
        "skincare_reminders_sent",
        "skincare_celery_queue_length",
        "skincare_readiness_check",
        "skincare_collector_up",
    )

    def describe(self):
        """Names for the registry's duplicate check, so registering runs no query."""
        for name in self.NAMES:
            yield GaugeMetricFamily(name, name)

    def collect(self):
        up = _gauge(
            "skincare_collector_up",
            "1 when a part of the platform metrics could be read at this scrape.",
            ["part"],
        )
        for part, method in (
            ("analyses", self._analyses),
            ("deliveries", self._deliveries),
            ("consultations", self._consultations),
            ("reminders", self._reminders),
            ("celery", self._celery),
            ("readiness", self._readiness),
        ):
            try:
                yield from method()
            except Exception:
                logger.warning("metrics: could not read %s", part, exc_info=True)
                up.add_metric([part], 0)
            else:
                up.add_metric([part], 1)
        yield up

    def _analyses(self):
        from analysis import selectors

        total = _gauge("skincare_analyses", "Analyses stored, by status.", ["status"])
        for status, count in sorted(selectors.count_by_status().items()):
            total.add_metric([status], count)
        yield total

        since = timezone.now() - RECENT
        recent = _gauge(
            "skincare_analyses_finished_last_hour",
            "Analyses that completed or failed in the last hour, by status.",
            ["status"],
        )
        for status, count in sorted(selectors.finished_since(since).items()):
            recent.add_metric([status], count)
        yield recent

        engine = _gauge(
            "skincare_analysis_engine_duration_seconds",
            "Engine run time (started to completed) of analyses completed in the "
            "last hour.",
            ["stat"],
        )
        durations = selectors.engine_durations_since(since)
        for stat in ("avg", "max"):
            engine.add_metric([stat], durations[stat])
        yield engine

    def _deliveries(self):
        from notifications import selectors

        total = _gauge(
            "skincare_email_deliveries", "E-mail deliveries, by status.", ["status"]
        )
        for status, count in sorted(selectors.delivery_count_by_status().items()):
            total.add_metric([status], count)
        yield total

        oldest = selectors.oldest_pending_delivery_at()
        age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "skincare_email_oldest_pending_age_seconds",
            "Age of the oldest pending e-mail delivery (0 when none is pending).",
            value=max(age, 0.0),
        )

    def _consultations(self):
        from consultations import selectors

        booked = _gauge(
            "skincare_consultations",
            "Consultations booked, by current status.",
            ["status"],
        )
        for status, count in sorted(selectors.count_by_status().items()):
            booked.add_metric([status], count)
        yield booked

    def _reminders(self):
        from notifications import selectors

        sent = _gauge(
            "skincare_reminders_sent",
            "Reminder notifications created, by kind.",
            ["kind"],
        )
        counts = selectors.notification_count_by_kind(REMINDER_KINDS)
        for kind, count in sorted(counts.items()):
            sent.add_metric([kind], count)
        yield sent

    def _celery(self):
        if (
            settings.CELERY_TASK_ALWAYS_EAGER
            or not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
        ):
            return
        import redis

        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1
        )
        names = [queue.name for queue in settings.CELERY_TASK_QUEUES]
        try:
            lengths = [client.llen(name) for name in names]
        finally:
            client.close()
        queue = _gauge(
            "skincare_celery_queue_length",
            "Messages waiting in a Celery queue.",
            ["queue"],
        )
        for name, length in zip(names, lengths, strict=True):
            queue.add_metric([name], length)
        yield queue

    def _readiness(self):
        from skincare.health import READINESS_CHECKS

        ready = _gauge(
            "skincare_readiness_check",
            "1 when a readiness check (as /health/ready/ runs it) passes, else 0.",
            ["check"],
        )
        for name, check in READINESS_CHECKS.items():
            try:
                check()
            except Exception:
                ready.add_metric([name], 0)
            else:
                ready.add_metric([name], 1)
        yield ready


PLATFORM_COLLECTOR = PlatformCollector()
if not getattr(REGISTRY, "_skincare_platform_registered", False):
    REGISTRY.register(PLATFORM_COLLECTOR)
    REGISTRY._skincare_platform_registered = True


def _registry():
    """Every process' metrics under gunicorn (PROMETHEUS_MULTIPROC_DIR), else ours."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(PLATFORM_COLLECTOR)
    return registry


def _client_allowed(request) -> bool:
    allowed = settings.METRICS_ALLOWED_IPS
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in allowed)


@never_cache
@require_GET
def metrics_view(request):
    """Prometheus exposition for callers sending `Authorization: Bearer <token>`."""
    token = settings.METRICS_TOKEN
    if not token or not _client_allowed(request):
        raise Http404
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
