"""The /metrics endpoint: access control, figures that move, and the shipped rules."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from analysis.models import Analysis
from analysis.tests.factories import AnalysisFactory, CompletedAnalysisFactory
from notifications.services import notify
from skincare.testing import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-test-token-0123456789"
METRIC_NAME = re.compile(r"\b((?:skincare|django)_[a-z0-9_]+)\b")

pytestmark = pytest.mark.django_db


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    return TOKEN


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    """The sum of a metric's samples whose labels include the given ones."""
    wanted = set(labels.items())
    return sum(
        v for (n, lbls), v in samples.items() if n == name and wanted <= set(lbls)
    )


def test_metrics_answers_404_when_no_token_is_configured(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything")

    assert response.status_code == 404


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"]
)
def test_metrics_refuses_a_missing_or_wrong_token_with_401(
    client, metrics_token, header
):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}

    response = client.get("/metrics", **extra)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"django_http" not in response.content


def test_metrics_answers_404_to_an_address_outside_the_allowed_list(
    client, metrics_token, settings
):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]

    outside = client.get(
        "/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="192.0.2.7"
    )
    inside = client.get(
        "/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="10.1.2.3"
    )

    assert outside.status_code == 404
    assert inside.status_code == 200


def test_scrape_after_real_traffic_shows_the_figures_moved(
    client, metrics_token, auth_client, user
):
    # given a first scrape
    before = scrape(client)

    # when the API serves requests and the platform records work
    for _ in range(3):
        assert auth_client.get("/api/v1/users/me/").status_code == 200
    assert auth_client.get("/api/v1/notifications/").status_code == 200
    # the badge count is read through the cache
    assert auth_client.get("/api/v1/notifications/unread-count/").status_code == 200
    notify(user=user, kind="welcome")  # its e-mail stays pending: no commit here
    notify(user=user, kind="routine_reminder", idempotency_key="metrics-reminder")
    now = timezone.now()
    CompletedAnalysisFactory(
        user=user, started_at=now - timedelta(seconds=4), completed_at=now
    )
    AnalysisFactory(
        user=user,
        status=Analysis.Status.FAILED,
        failure_code="no_face",
        started_at=now - timedelta(seconds=1),
        completed_at=now,
    )
    after = scrape(client)

    # then django-prometheus counted the requests, queries and cache use
    me = {"view": "users-me"}
    name = "django_http_requests_total_by_view_transport_method_total"
    assert value(after, name, **me) - value(before, name, **me) == 3
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    assert value(after, latency, **me) - value(before, latency, **me) == 3
    assert value(after, "django_db_execute_total") > value(
        before, "django_db_execute_total"
    )
    assert value(after, "django_db_query_duration_seconds_count") > 0
    assert value(after, "django_cache_get_total") > value(
        before, "django_cache_get_total"
    )
    # and the platform's gauges
    pending = {"status": "pending"}
    assert (
        value(after, "skincare_email_deliveries", **pending)
        - value(before, "skincare_email_deliveries", **pending)
        == 2
    )
    assert value(after, "skincare_email_oldest_pending_age_seconds") >= 0
    reminders = {"kind": "routine_reminder"}
    assert value(after, "skincare_reminders_sent", **reminders) == 1
    assert value(after, "skincare_analyses", status="completed") == 1
    assert value(after, "skincare_analyses", status="failed") == 1
    recent = "skincare_analyses_finished_last_hour"
    assert value(after, recent, status="failed") == 1
    engine = "skincare_analysis_engine_duration_seconds"
    assert value(after, engine, stat="max") == pytest.approx(4, abs=0.01)
    assert value(after, "skincare_readiness_check", check="database") == 1
    for part in ("analyses", "deliveries", "consultations", "reminders", "readiness"):
        assert value(after, "skincare_collector_up", part=part) == 1, part


def test_oldest_pending_age_grows_with_the_oldest_pending_delivery(
    client, metrics_token, user
):
    from notifications.models import Delivery

    notification = notify(user=user, kind="welcome")
    Delivery.objects.filter(notification=notification).update(
        created_at=timezone.now() - timedelta(minutes=20)
    )

    samples = scrape(client)

    age = value(samples, "skincare_email_oldest_pending_age_seconds")
    assert 1190 < age < 1300


def test_celery_queue_length_is_read_from_the_redis_broker(
    client, metrics_token, settings
):
    if not settings.REDIS_URL:
        skip_or_fail("needs Redis (set REDIS_URL)")
    import redis

    broker = settings.REDIS_URL.rsplit("/", 1)[0] + "/7"
    settings.CELERY_BROKER_URL = broker
    settings.CELERY_TASK_ALWAYS_EAGER = False
    connection = redis.Redis.from_url(broker)
    connection.delete("analysis")
    connection.rpush("analysis", "a", "b", "c")
    try:
        samples = scrape(client)
    finally:
        connection.delete("analysis")
        connection.close()

    assert value(samples, "skincare_celery_queue_length", queue="analysis") == 3


def _rule_exprs() -> list[str]:
    rules = yaml.safe_load((ROOT / "ops/prometheus/alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads((ROOT / "ops/grafana/skincare.json").read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]


def test_alert_rules_parse_and_name_every_alert():
    rules = yaml.safe_load((ROOT / "ops/prometheus/alerts.yml").read_text())

    [group] = rules["groups"]
    names = {rule["alert"] for rule in group["rules"]}
    assert {
        "EmailDeliveriesStuck",
        "AnalysesFailing",
        "ReadinessFailing",
        "HighServerErrorRate",
        "CeleryQueueGrowing",
    } <= names
    for rule in group["rules"]:
        assert rule["expr"].strip()
        assert rule["annotations"]["summary"]


def test_every_metric_in_alerts_and_dashboard_is_exported(
    client, metrics_token, auth_client, user, settings
):
    # given traffic that creates every labelled series (a cache hit, a 500)
    for _ in range(2):
        auth_client.get("/api/v1/users/me/")
        auth_client.get("/api/v1/notifications/unread-count/")  # miss, then hit
    notify(user=user, kind="welcome")
    if settings.REDIS_URL:
        settings.CELERY_BROKER_URL = settings.REDIS_URL.rsplit("/", 1)[0] + "/7"
        settings.CELERY_TASK_ALWAYS_EAGER = False

    exported = {name for name, _ in scrape(client)}

    used = {
        name
        for expr in _rule_exprs() + _dashboard_exprs()
        for name in METRIC_NAME.findall(expr)
    }
    if not settings.REDIS_URL:
        used.discard("skincare_celery_queue_length")  # no broker on embedded parts
    assert used, "no metric names found"
    assert used <= exported, sorted(used - exported)
