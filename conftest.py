import os
import shutil
import time
import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import DermatologistUserFactory, UserFactory
from skincare.celery import app as celery_app
from skincare.testing import (
    BROKER_URL,
    RecordingHandler,
    free_port,
    require_postgres,
    reset_producer_pool,
    seaweedfs_server,
    skip_or_fail,
    use_broker,
)
from skincare.throttling import UserRateThrottle


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (throttle counters included)."""
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _rate_windows_start_with_the_test(monkeypatch):
    """Fixed-window counters (skincare.throttling) restart at each window boundary.

    A test's burst of requests that straddled one would see its count reset midway;
    shifting the clock so that each test starts just after a day's (so an hour's, a
    minute's) boundary keeps the test's requests in one window. Time still flows.
    """
    offset = 1.0 - (time.time() % 86400)
    monkeypatch.setattr(UserRateThrottle, "timer", lambda self: time.time() + offset)


@pytest.fixture
def smtp_server():
    """An SMTP server on loopback recording what it accepts: (controller, handler)."""
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def broker():
    """Point this process's Celery app at the real Redis broker, with an empty queue."""
    import redis

    client = redis.Redis.from_url(BROKER_URL, socket_connect_timeout=1)
    try:
        client.flushdb()
    except redis.ConnectionError:
        skip_or_fail(f"no Redis broker at {BROKER_URL}")
    use_broker(BROKER_URL)
    yield client
    celery_app.conf.task_always_eager = True
    reset_producer_pool()
    client.flushdb()
    client.close()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def fast_password_hashing(settings):
    """Argon2id with minimal work factors, for tests that check passwords a lot.

    The production hashers stay listed after it, so their hashes still verify.
    """
    settings.PASSWORD_HASHERS = [
        "accounts.tests.hashers.CheapArgon2PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


@pytest.fixture
def unverified_user(db):
    return UserFactory(unverified=True)


@pytest.fixture
def dermatologist_user(db):
    return DermatologistUserFactory()


def _client_for(user) -> APIClient:
    client = APIClient()
    access = RefreshToken.for_user(user).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def client_for():
    """Return a function giving an API client signed in as the given user."""
    return _client_for


@pytest.fixture
def auth_client(user) -> APIClient:
    return _client_for(user)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return _client_for(other_user)


@pytest.fixture
def requires_postgres():
    """Skip unless the database is PostgreSQL (fail under SKINCARE_REQUIRE_SERVICES=1).

    CI sets the variable so that it cannot silently skip what it must test.
    """
    require_postgres()


@pytest.fixture
def requires_chromium():
    """Path of Chromium; skip if absent (fail under SKINCARE_REQUIRE_SERVICES=1)."""
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    )
    if path is None:
        skip_or_fail("chromium is not installed")
    return path


@pytest.fixture
def media_root(settings, tmp_path, monkeypatch):
    """A private, empty MEDIA_ROOT for the test; with STORAGE_URL (the suite run
    against a bucket), an empty prefix of that bucket of its own instead."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    if settings.STORAGE_URL:
        _use_bucket(settings, monkeypatch, settings.STORAGE_URL, tmp_path.name)
    return root


def _use_bucket(settings, monkeypatch, url: str, test_prefix: str) -> None:
    """Media and backups in the bucket of `url`, under a prefix of this test.

    STORAGE_URL in the environment names the same prefix, so workers and servers
    the test starts (with os.environ) see the same files.
    """
    from urllib.parse import urlsplit, urlunsplit

    from skincare.storage_url import storages_for

    parts = urlsplit(url)
    prefix = f"t-{uuid.uuid4().hex[:8]}-{test_prefix}"
    url = urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{prefix}"))
    monkeypatch.setenv("STORAGE_URL", url)
    monkeypatch.delenv("BACKUP_STORAGE_URL", raising=False)
    settings.STORAGE_URL = url
    settings.BACKUP_STORAGE_URL = ""
    settings.STORAGES = {
        **settings.STORAGES,
        **storages_for(storage_url=url, backup_storage_url="", backup_dir=""),
    }


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A SeaweedFS S3 server on loopback with enforced credentials, one per session
    (so one per xdist worker); bucket `media`."""
    with seaweedfs_server(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture
def use_bucket(settings, tmp_path, monkeypatch):
    """Point media and backups at a bucket URL, under a prefix of this test."""

    def use(url: str) -> None:
        _use_bucket(settings, monkeypatch, url, tmp_path.name)

    return use


@pytest.fixture(params=["filesystem", "s3"])
def storage_backend(request, settings, media_root, tmp_path):
    """The test runs twice: media in a local folder, then in a SeaweedFS bucket.

    Returns the backend's name; `default_storage` is that backend, empty.
    """
    if request.param == "filesystem":
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.delenv("STORAGE_URL", raising=False)
        settings.STORAGE_URL = ""
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "backups": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(tmp_path / "backups")},
            },
        }
    else:
        server = request.getfixturevalue("seaweedfs")
        _use_bucket(
            settings,
            request.getfixturevalue("monkeypatch"),
            server.storage_url(),
            tmp_path.name,
        )
    return request.param


@pytest.fixture
def eager_celery():
    """Tasks run in process, whatever the environment's broker settings."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def rates(monkeypatch):
    """Set throttle rates for the test (every other scope keeps its rate)."""

    def set_rates(**scopes: str) -> None:
        monkeypatch.setattr(
            SimpleRateThrottle,
            "THROTTLE_RATES",
            {**SimpleRateThrottle.THROTTLE_RATES, **scopes},
        )

    return set_rates
