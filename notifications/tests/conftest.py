"""Real processes for delivery tests: an SMTP server on loopback and Celery workers."""

import os
import time
from pathlib import Path

import pytest

from skincare.testing import (
    BROKER_URL,
    CeleryWorker,
    database_url_for_other_processes,
    require_postgres,
)


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
