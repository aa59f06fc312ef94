"""The PostgreSQL connection pool: settings, and honest readiness when it runs dry."""

import subprocess
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from skincare.testing import require_postgres, run_with_settings

pytestmark = pytest.mark.django_db


def settings_with(env: dict) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter with this environment."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['OPTIONS'].get('pool'))"
    )
    return run_with_settings(
        code,
        {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", **env},
    )


def test_postgres_gets_a_pool_by_default_with_conn_max_age_zero():
    result = settings_with({"DATABASE_POOL_MAX_SIZE": "6"})

    assert result.returncode == 0, result.stderr
    conn_max_age, pool = result.stdout.split(" ", 1)
    assert conn_max_age == "0"
    assert "'max_size': 6" in pool
    assert "'timeout': 5.0" in pool


def test_pool_with_persistent_connections_refuses_to_start():
    result = settings_with({"DATABASE_CONN_MAX_AGE": "60"})

    assert result.returncode != 0
    assert "DATABASE_CONN_MAX_AGE must be 0 with the connection pool" in result.stderr


def test_pool_off_keeps_persistent_connections():
    result = settings_with({"DATABASE_POOL": "false", "DATABASE_CONN_MAX_AGE": "30"})

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["30", "None"]


@pytest.fixture
def pool():
    require_postgres()
    if not settings.DATABASE_POOL:
        pytest.skip("DATABASE_POOL=false")
    connection.ensure_connection()  # this test's own connection comes from the pool
    return connection.pool


@pytest.fixture
def drained(pool):
    """Every connection of the pool checked out (as by busy threads); given back."""
    from psycopg_pool import PoolTimeout

    held = []
    try:
        while True:
            held.append(pool.getconn(timeout=0.5))
    except PoolTimeout:
        pass
    yield pool
    for conn in held:
        pool.putconn(conn)


def in_another_thread(path: str):
    """GET path as a new server thread would: no database connection of its own yet."""
    result = {}

    def get():
        try:
            # a 503 is reported like an error (logged); answer it, do not re-raise
            result["response"] = Client(raise_request_exception=False).get(path)
        finally:
            connection.close()  # this thread's connection, if any, back to the pool

    thread = threading.Thread(target=get)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), f"GET {path} hung"
    return result["response"]


def test_ready_reports_an_exhausted_pool_as_not_ready_with_the_reason(drained):
    response = in_another_thread("/health/ready/")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "down"
    assert "database" in body["down"]
    assert body["reasons"]["database"].startswith(
        f"connection pool exhausted: all {drained.max_size} connections in use"
    )


def test_ready_recovers_once_a_connection_is_free(pool):
    response = in_another_thread("/health/ready/")

    assert response.json()["checks"]["database"] == "ok"
    assert "reasons" not in response.json() or "database" not in response.json().get(
        "reasons", {}
    )


def test_api_request_with_an_exhausted_pool_answers_503_not_500(drained, monkeypatch):
    monkeypatch.setattr(drained, "timeout", 0.5)  # DATABASE_POOL_TIMEOUT, shortened

    response = in_another_thread("/api/v1/products/")

    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "service_unavailable"
    assert response.headers["Retry-After"]
