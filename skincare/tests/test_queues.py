"""Queues by the work they do, with real workers: analysis never delays e-mail.

The slow tests start `celery worker` processes as README "Workers and scaling" runs
them (one per queue), on the real Redis broker, the test database and an SMTP server
on loopback.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import F

from analysis.models import Analysis
from analysis.services import redrive_stuck_analyses
from analysis.tasks import run_analysis_task
from analysis.tests.factories import face_jpeg_with_gps
from notifications.tests.conftest import (
    BROKER_URL,
    wait_until,
)
from skincare.celery import app as celery_app
from skincare.tasks import enqueue
from skincare.testing import (
    CeleryWorker,
    database_url_for_other_processes,
    require_postgres,
)

ROOT = Path(__file__).resolve().parents[2]
QUEUES = {"analysis", "notifications", "default"}


def waiting_analysis(user) -> Analysis:
    """A photo analysis as the API leaves it: raw upload stored, pending."""
    raw_field = Analysis._meta.get_field("raw_upload")
    name = raw_field.storage.save(
        raw_field.generate_filename(None, "upload"), ContentFile(face_jpeg_with_gps())
    )
    return Analysis.objects.create(user=user, raw_upload=name)


def queue_of(task_name: str) -> str:
    return celery_app.amqp.router.route({}, task_name)["queue"].name


# ------------------------------------------------------------------------------
# Routing (no processes)
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("analysis.run_analysis", "analysis"),
        ("notifications.send_delivery", "notifications"),
        ("accounts.send_password_reset", "notifications"),
        # a notifications task added later (push) lands there by its name alone
        ("notifications.send_push", "notifications"),
        ("notifications.tasks.send_push_task", "notifications"),
        ("push.send_push", "notifications"),
        ("operations.something_scheduled", "default"),
    ],
)
def test_tasks_are_routed_by_the_work_they_do(task_name, queue):
    assert queue_of(task_name) == queue


def test_every_project_task_has_one_of_the_three_queues():
    celery_app.loader.import_default_modules()
    project = [name for name in celery_app.tasks if not name.startswith("celery.")]

    assert project, "no project tasks registered"
    assert {
        name: queue_of(name) for name in project if queue_of(name) not in QUEUES
    } == {}


def test_a_worker_started_without_queues_serves_all_three():
    # A worker without -Q consumes the configured task_queues (app.amqp.queues also
    # gains any queue another test names in apply_async, so read the configuration).
    assert {queue.name for queue in celery_app.conf.task_queues} == QUEUES
    assert celery_app.conf.task_default_queue in QUEUES


def test_tasks_are_acknowledged_late_one_at_a_time():
    conf = celery_app.conf

    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert run_analysis_task.acks_late is True


# ------------------------------------------------------------------------------
# Real workers
# ------------------------------------------------------------------------------
@pytest.fixture
def workers(transactional_db, smtp_server, broker, media_root, tmp_path):
    """Start workers for queues; each is stopped before the database is flushed."""
    require_postgres()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_other_processes(),
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server[0].port}",
        "MEDIA_ROOT": str(media_root),
        "LOG_FORMAT": "plain",
    }
    started: list[CeleryWorker] = []

    def start(queues: str, pool: str, concurrency: int, **extra_env) -> CeleryWorker:
        log = tmp_path / f"{queues}-{len(started)}.log"
        worker = CeleryWorker(
            {**env, **extra_env}, log, queues=queues, pool=pool, concurrency=concurrency
        ).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_200_queued_analyses_do_not_delay_a_password_reset_email(
    workers, smtp_server, broker, user, api_client
):
    # given: one worker per queue, as README "Workers and scaling" runs them
    _, inbox = smtp_server
    analysis_worker = workers("analysis", "prefork", 1)
    mail_worker = workers("notifications,default", "threads", 4)
    analysis_worker.wait_ready()
    mail_worker.wait_ready()
    # and a burst of 200 photo analyses waiting for the analysis worker
    ids = [str(waiting_analysis(user).pk) for _ in range(200)]
    for analysis_id in ids:
        assert enqueue(run_analysis_task, analysis_id)

    # when: the user asks for a password reset
    response = api_client.post(
        "/api/v1/auth/password/reset/", {"email": user.email}, format="json"
    )
    assert response.status_code == 202

    # then: the e-mail arrives while most analyses still wait in their queue
    wait_until(lambda: inbox.messages, timeout=60)
    still_queued = broker.llen("analysis")
    pending = Analysis.objects.filter(status=Analysis.Status.PENDING).count()
    assert inbox.messages[0]["To"] == user.email
    assert "password" in inbox.messages[0]["Subject"].lower()
    assert still_queued >= 150, f"only {still_queued} analyses left in the queue"
    assert pending >= 150, f"only {pending} analyses still pending"
    # and the analysis worker was working through the burst meanwhile
    wait_until(
        lambda: Analysis.objects.exclude(status=Analysis.Status.PENDING).exists(),
        timeout=60,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_analysis_leaves_it_for_the_redrive_which_completes_it(
    workers, broker, user
):
    # given: an analysis worker running a photo analysis
    worker = workers("analysis", "prefork", 1).wait_ready()
    analysis = waiting_analysis(user)
    assert enqueue(run_analysis_task, str(analysis.pk))
    wait_until(
        lambda: Analysis.objects.filter(
            pk=analysis.pk, status=Analysis.Status.PROCESSING
        ).exists(),
        timeout=60,
        interval=0.02,
    )

    # when: the worker's node dies mid-analysis (SIGKILL, no warm shutdown)
    worker.kill()

    # then: the analysis is left processing, not lost and not half-written
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.PROCESSING
    assert analysis.attempts == 1
    assert not analysis.scores
    assert redrive_stuck_analyses().requeued == 0  # a live worker may still be on it
    # and the re-drive command's service finds it once it counts as stuck
    stuck_for = timedelta(minutes=settings.ANALYSIS_STUCK_AFTER_MINUTES + 1)
    Analysis.objects.filter(pk=analysis.pk).update(
        started_at=F("started_at") - stuck_for
    )
    summary = redrive_stuck_analyses()
    assert (summary.requeued, summary.timed_out) == (1, 0)
    # and a new worker runs it to the end, once
    workers("analysis", "prefork", 1)
    wait_until(
        lambda: Analysis.objects.filter(
            pk=analysis.pk, status=Analysis.Status.COMPLETED
        ).exists(),
        timeout=90,
    )
    analysis.refresh_from_db()
    assert analysis.attempts == 2
    assert analysis.scores
