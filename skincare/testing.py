"""Helpers for tests that drive real processes (workers, SMTP, browsers)."""

import os
import socket

import pytest
from django.db import connection


def services_required() -> bool:
    """CI sets SKINCARE_REQUIRE_SERVICES=1: a missing service then fails, not skips."""
    return os.environ.get("SKINCARE_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_other_processes() -> str:
    """The URL of the database this test runs on (the test database)."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return (
        f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    )
