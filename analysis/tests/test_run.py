from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from analysis import selectors, services
from analysis.models import Analysis
from analysis.tests.factories import (
    AnalysisFactory,
    CompletedAnalysisFactory,
    face_jpeg_with_gps,
)
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo_analysis(media_root):
    analysis = AnalysisFactory(answers=None, photo="photos/placeholder.jpg")
    analysis.photo.save("x.jpg", ContentFile(face_jpeg_with_gps()), save=True)
    return analysis


def test_missing_model_fails_with_engine_unavailable_and_no_scores(
    photo_analysis, settings, tmp_path
):
    settings.LANDMARK_MODEL_PATH = str(tmp_path / "nowhere.task")

    services.run_analysis(analysis_id=photo_analysis.pk)

    photo_analysis.refresh_from_db()
    assert photo_analysis.status == Analysis.Status.FAILED
    assert photo_analysis.failure_code == "engine_unavailable"
    assert photo_analysis.scores == {}
    assert photo_analysis.skin_type == ""
    assert "model_missing" in photo_analysis.failure_detail
    notification = Notification.objects.get(kind="analysis_failed")
    assert notification.idempotency_key == f"analysis:{photo_analysis.pk}:failed"


def test_completed_analysis_is_not_run_again():
    analysis = AnalysisFactory()
    services.run_analysis(analysis_id=analysis.pk)

    assert services.run_analysis(analysis_id=analysis.pk) is None

    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.COMPLETED
    assert analysis.attempts == 1
    assert Notification.objects.filter(kind="analysis_ready").count() == 1


def test_analysis_a_live_worker_is_processing_is_left_alone():
    analysis = AnalysisFactory(
        status=Analysis.Status.PROCESSING, started_at=timezone.now(), attempts=1
    )

    assert services.run_analysis(analysis_id=analysis.pk) is None

    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.PROCESSING


def test_unexpected_error_fails_the_analysis_with_internal_error(monkeypatch):
    analysis = AnalysisFactory()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "fuse", broken)

    services.run_analysis(analysis_id=analysis.pk)

    analysis.refresh_from_db()
    assert analysis.failure_code == "internal_error"
    assert "boom" in analysis.failure_detail


def test_deleted_analysis_is_skipped():
    missing = "00000000-0000-0000-0000-000000000000"

    assert services.run_analysis(analysis_id=missing) is None


def test_latest_completed_analysis_is_the_newest_completed_one(user):
    old = CompletedAnalysisFactory(user=user)
    Analysis.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    newest = CompletedAnalysisFactory(user=user)
    AnalysisFactory(user=user)
    CompletedAnalysisFactory()

    assert selectors.latest_completed_analysis(user=user) == newest
