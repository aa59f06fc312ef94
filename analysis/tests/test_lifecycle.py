import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile

from analysis import services
from analysis.models import Analysis
from analysis.tests.factories import (
    AnalysisFactory,
    CompletedAnalysisFactory,
    face_jpeg_with_gps,
    stored_files,
    waiting_analysis,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_photo(user, media_root):
    analysis = CompletedAnalysisFactory(user=user, score_values={"redness": 33})
    analysis.photo.save("x.jpg", ContentFile(face_jpeg_with_gps()), save=True)
    return analysis


def test_export_lists_analyses_with_a_photo_link_and_no_bytes(user, with_photo):
    exported = services.export_user_data(user=user)

    [row] = exported["analysis.Analysis"]
    assert row["id"] == str(with_photo.pk)
    assert row["has_photo"] is True
    assert row["photo_url"].startswith("/api/v1/analysis/photo-links/")
    assert row["scores"]["redness"]["score"] == 33
    assert "photo" not in row
    json.dumps(exported)


def test_erase_deletes_analyses_and_photo_files(
    user, with_photo, media_root, django_capture_on_commit_callbacks
):
    other = CompletedAnalysisFactory()

    with django_capture_on_commit_callbacks(execute=True):
        services.erase_user_data(user=user)

    assert list(Analysis.objects.all()) == [other]
    assert stored_files(media_root) == []


def test_erase_deletes_raw_uploads_still_waiting_for_the_worker(
    user, media_root, django_capture_on_commit_callbacks
):
    waiting_analysis(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        services.erase_user_data(user=user)

    assert not Analysis.objects.exists()
    assert stored_files(media_root) == []


def test_deleting_an_analysis_deletes_its_waiting_raw_upload(
    user, client_for, media_root, django_capture_on_commit_callbacks
):
    analysis = waiting_analysis(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(user).delete(f"/api/v1/analyses/{analysis.pk}/")

    assert response.status_code == 204
    assert stored_files(media_root) == []


def test_analysis_deleted_while_the_worker_prepares_leaves_no_photo_behind(
    user, media_root, django_capture_on_commit_callbacks
):
    """Deleted after the claim: the re-encoded photo is removed, not orphaned."""
    analysis = waiting_analysis(user=user)
    claimed, started_at = services._claim(analysis.pk)
    Analysis.objects.filter(pk=analysis.pk).delete()

    with django_capture_on_commit_callbacks(execute=True):
        outcome = services._prepare_photo(claimed, started_at)

    assert outcome is not None
    assert [path.parent.name for path in stored_files(media_root)] == ["uploads"]


def test_other_apps_can_read_the_photo(with_photo):
    assert services.read_photo(analysis=with_photo)[:3] == b"\xff\xd8\xff"


@pytest.fixture
def staff_client(client, django_user_model):
    staff = django_user_model.objects.create_user(
        "staff@example.com", "pw-Staff-12345", is_staff=True
    )
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_analysis", "change_analysis"])
    )
    client.force_login(staff)
    return client


def test_admin_photo_view_serves_staff(staff_client, with_photo):
    response = staff_client.get(f"/admin/analysis/analysis/{with_photo.pk}/photo/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]


def test_admin_photo_view_refuses_non_staff(client, user, with_photo):
    client.force_login(user)

    response = client.get(f"/admin/analysis/analysis/{with_photo.pk}/photo/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_change_page_shows_thumbnail_and_scores(staff_client, with_photo):
    response = staff_client.get(f"/admin/analysis/analysis/{with_photo.pk}/change/")

    assert response.status_code == 200
    assert f"/admin/analysis/analysis/{with_photo.pk}/photo/" in response.text
    assert "redness" in response.text


def test_admin_rerun_resets_to_pending_and_enqueues(
    staff_client, django_capture_on_commit_callbacks
):
    analysis = AnalysisFactory(
        status=Analysis.Status.FAILED, failure_code="internal_error", attempts=3
    )

    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(
            "/admin/analysis/analysis/",
            {"action": "rerun", "_selected_action": [str(analysis.pk)]},
        )

    assert response.status_code == 302
    analysis.refresh_from_db()
    assert (analysis.status, analysis.failure_code, analysis.attempts) == (
        "pending",
        "",
        0,
    )
    assert len(callbacks) == 1
