"""Real processes for delivery tests: an SMTP server on loopback and Celery workers."""

import os
import time
from pathlib import Path

import pytest
import redis

from skincare.celery import app as celery_app
from skincare.testing import (
    CeleryWorker,
    database_url_for_other_processes,
    require_postgres,
    skip_or_fail,
)

BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/2")


@pytest.fixture
def broker():
    """Point this process's Celery app at the real Redis broker, with an empty queue."""
    client = redis.Redis.from_url(BROKER_URL, socket_connect_timeout=1)
    try:
        client.flushdb()
    except redis.ConnectionError:
        skip_or_fail(f"no Redis broker at {BROKER_URL}")
    use_broker(BROKER_URL)
    yield BROKER_URL
    celery_app.conf.task_always_eager = True
    reset_producer_pool()
    client.flushdb()


def reset_producer_pool() -> None:
    # Dropping the references makes Celery build pools for the new URL on next use.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def use_broker(url: str) -> None:
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = url
    reset_producer_pool()


class Worker(CeleryWorker):
    """A worker serving every queue on the test database, the real broker and SMTP."""

    def __init__(
        self, smtp_port: int, log_path: Path, extra_env: dict[str, str] | None = None
    ):
        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_other_processes(),
            "CELERY_BROKER_URL": BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "EMAIL_TIMEOUT": "30",
            "NOTIFICATION_RETRY_BASE_SECONDS": "1",
            "LOG_FORMAT": "plain",
            **(extra_env or {}),
        }
        super().__init__(env, log_path)

    def start(self) -> "Worker":
        super().start()
        self.wait_ready(60)
        return self


@pytest.fixture
def start_worker(smtp_server, broker, tmp_path):
    require_postgres()
    workers: list[Worker] = []

    def start() -> Worker:
        worker = Worker(smtp_server[0].port, tmp_path / "worker.log").start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_until(predicate, timeout: float = 30, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")
