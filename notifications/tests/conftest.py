"""Real processes for delivery tests: an SMTP server on loopback and Celery workers."""

import asyncio
import email
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller

from skincare.celery import app as celery_app
from skincare.testing import (
    database_url_for_other_processes,
    free_port,
    require_postgres,
    skip_or_fail,
)

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/2")


class RecordingHandler:
    """Accepts mail like a real server; can refuse or stall the first recipients."""

    def __init__(self):
        self.messages: list[email.message.Message] = []
        self.refuse_first = 0
        self.stall_first = 0
        self.rcpt_calls = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_calls += 1
        if self.rcpt_calls <= self.stall_first:
            await asyncio.sleep(60)
            return "451 4.3.0 Stalled"
        if self.rcpt_calls <= self.refuse_first:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp_server():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


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


class Worker:
    """A `celery worker` process on the test database, the real broker and SMTP."""

    def __init__(
        self, smtp_port: int, log_path: Path, extra_env: dict[str, str] | None = None
    ):
        self.smtp_port = smtp_port
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_other_processes(),
            "CELERY_BROKER_URL": BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "EMAIL_TIMEOUT": "30",
            "NOTIFICATION_RETRY_BASE_SECONDS": "1",
            "LOG_FORMAT": "plain",
            **self.extra_env,
        }
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "skincare",
                "worker",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while b"ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(self.log_path.read_text())
            time.sleep(0.2)
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


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
