from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from analysis.models import Analysis
from analysis.tests.factories import (
    AnalysisFactory,
    CompletedAnalysisFactory,
    stored_files,
    waiting_analysis,
)
from notifications.models import Notification

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(minutes=30)


def run(name: str, *args) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def stuck_processing():
    """A questionnaire analysis whose worker died 30 minutes ago."""
    return AnalysisFactory(
        status=Analysis.Status.PROCESSING,
        started_at=timezone.now() - LONG_AGO,
        attempts=1,
    )


def test_redrive_reruns_an_analysis_stuck_in_processing(
    stuck_processing, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        summary = run("redrive_stuck_analyses")

    assert summary == "requeued=1 timed_out=0"
    stuck_processing.refresh_from_db()
    assert stuck_processing.status == Analysis.Status.COMPLETED
    assert stuck_processing.attempts == 2


def test_redrive_requeues_a_pending_analysis_never_picked_up(
    django_capture_on_commit_callbacks,
):
    analysis = AnalysisFactory(enqueued_at=timezone.now() - LONG_AGO)

    with django_capture_on_commit_callbacks() as callbacks:
        summary = run("redrive_stuck_analyses")

    assert summary == "requeued=1 timed_out=0"
    assert len(callbacks) == 1
    analysis.refresh_from_db()
    assert analysis.enqueued_at > timezone.now() - timedelta(minutes=1)


def test_redrive_leaves_recent_work_alone(django_capture_on_commit_callbacks):
    AnalysisFactory(enqueued_at=timezone.now())
    AnalysisFactory(status=Analysis.Status.PROCESSING, started_at=timezone.now())

    with django_capture_on_commit_callbacks() as callbacks:
        summary = run("redrive_stuck_analyses")

    assert summary == "requeued=0 timed_out=0"
    assert callbacks == []


def test_redrive_dry_run_changes_nothing(
    stuck_processing, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        summary = run("redrive_stuck_analyses", "--dry-run")

    assert summary == "[dry run] requeued=1 timed_out=0"
    assert callbacks == []
    stuck_processing.refresh_from_db()
    assert stuck_processing.status == Analysis.Status.PROCESSING
    assert stuck_processing.enqueued_at is None


def test_redrive_fails_an_analysis_out_of_attempts(stuck_processing, settings):
    settings.ANALYSIS_MAX_ATTEMPTS = 1

    summary = run("redrive_stuck_analyses")

    assert summary == "requeued=0 timed_out=1"
    stuck_processing.refresh_from_db()
    assert stuck_processing.status == Analysis.Status.FAILED
    assert stuck_processing.failure_code == "processing_timeout"
    assert Notification.objects.filter(
        idempotency_key=f"analysis:{stuck_processing.pk}:failed"
    ).exists()


def test_redrive_prepares_an_analysis_whose_raw_upload_is_still_waiting(
    media_root, eager_celery, django_capture_on_commit_callbacks
):
    # given a photo upload the worker never picked up
    analysis = waiting_analysis(enqueued_at=timezone.now() - LONG_AGO)

    # when the re-drive runs
    with django_capture_on_commit_callbacks(execute=True):
        summary = run("redrive_stuck_analyses")

    # then the photo was prepared and analysed, and the raw upload is gone
    assert summary == "requeued=1 timed_out=0"
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.COMPLETED, analysis.failure_detail
    assert not analysis.raw_upload
    assert [path.parent.name for path in stored_files(media_root)] == ["photos"]


def test_redrive_out_of_attempts_deletes_the_waiting_raw_upload(
    media_root, settings, django_capture_on_commit_callbacks
):
    settings.ANALYSIS_MAX_ATTEMPTS = 1
    analysis = waiting_analysis(
        status=Analysis.Status.PROCESSING,
        started_at=timezone.now() - LONG_AGO,
        attempts=1,
    )

    with django_capture_on_commit_callbacks(execute=True):
        summary = run("redrive_stuck_analyses")

    assert summary == "requeued=0 timed_out=1"
    analysis.refresh_from_db()
    assert (analysis.status, analysis.failure_code) == ("failed", "processing_timeout")
    assert not analysis.raw_upload
    assert stored_files(media_root) == []


def test_redrive_help_names_the_schedule():
    from analysis.management.commands.redrive_stuck_analyses import Command

    assert "every 5 minutes" in Command.help


@pytest.fixture
def old_photo_analysis(media_root):
    analysis = CompletedAnalysisFactory(score_values={"redness": 40})
    analysis.photo.save("x.jpg", ContentFile(b"jpeg bytes"), save=True)
    Analysis.objects.filter(pk=analysis.pk).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    return analysis


def test_purge_deletes_old_photo_files_and_keeps_scores(
    old_photo_analysis, media_root, settings, django_capture_on_commit_callbacks
):
    settings.ANALYSIS_PHOTO_RETENTION_DAYS = 30

    with django_capture_on_commit_callbacks(execute=True):
        summary = run("purge_old_photos")

    assert summary == "purged=1"
    assert stored_files(media_root) == []
    old_photo_analysis.refresh_from_db()
    assert not old_photo_analysis.photo
    assert old_photo_analysis.photo_deleted_at is not None
    assert old_photo_analysis.scores["redness"]["score"] == 40


def test_purge_keeps_photos_younger_than_the_retention(
    old_photo_analysis, media_root, settings
):
    settings.ANALYSIS_PHOTO_RETENTION_DAYS = 60

    assert run("purge_old_photos") == "purged=0"
    assert len(stored_files(media_root)) == 1


def test_purge_does_nothing_when_retention_is_off(old_photo_analysis, media_root):
    assert run("purge_old_photos").startswith("retention off")
    assert len(stored_files(media_root)) == 1
