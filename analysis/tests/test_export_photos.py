"""The account export gives every analysis whole, and its photo by a signed link."""

import time

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.helpers import EXPORT_URL
from analysis import services
from analysis.tests.factories import (
    CompletedAnalysisFactory,
    face_jpeg_with_gps,
)

pytestmark = pytest.mark.django_db


def _with_photo(user):
    analysis = CompletedAnalysisFactory(user=user, score_values={"redness": 33})
    analysis.photo.save("x.jpg", ContentFile(face_jpeg_with_gps()), save=True)
    return analysis


def _exported_rows(client) -> dict:
    response = client.get(EXPORT_URL)
    assert response.status_code == 200
    return {row["id"]: row for row in response.json()["data"]["analysis.Analysis"]}


def test_export_includes_every_completed_analysis_with_its_full_engine_results(
    user, client_for, media_root
):
    # given two completed analyses whose engine output has more than the summary
    first = _with_photo(user)
    second = CompletedAnalysisFactory(
        user=user, photo="", photo_deleted_at=timezone.now()
    )
    for analysis in (first, second):
        analysis.photo_result = {
            **analysis.photo_result,
            "regions_usable": {"forehead": 0.91},
            "timings_ms": {"total": 812.5},
        }
        analysis.save(update_fields=["photo_result"])

    # when the user exports
    rows = _exported_rows(client_for(user))

    # then each row holds the whole result, not only the scores
    for analysis in (first, second):
        row = rows[str(analysis.pk)]
        assert row["photo_result"] == analysis.photo_result
        assert row["scores"] == analysis.scores
        assert row["profile"] == analysis.profile
        assert "photo" not in row
        assert "raw_upload" not in row
    assert rows[str(first.pk)]["photo_url"]
    assert rows[str(second.pk)]["photo_url"] is None


def test_export_photo_link_returns_the_exact_stored_bytes(user, client_for, media_root):
    analysis = _with_photo(user)
    with analysis.photo.open("rb") as handle:
        stored = handle.read()
    row = _exported_rows(client_for(user))[str(analysis.pk)]

    response = APIClient().get(row["photo_url"])

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]


def test_export_photo_link_expires_after_its_max_age(
    user, client_for, media_root, settings, monkeypatch
):
    settings.ANALYSIS_PHOTO_LINK_MAX_AGE = 15 * 60
    analysis = _with_photo(user)
    real_time = time.time

    def exported_minutes_ago(minutes: int) -> str:
        monkeypatch.setattr(signing.time, "time", lambda: real_time() - minutes * 60)
        url = _exported_rows(client_for(user))[str(analysis.pk)]["photo_url"]
        monkeypatch.setattr(signing.time, "time", real_time)
        return url

    assert APIClient().get(exported_minutes_ago(14)).status_code == 200
    response = APIClient().get(exported_minutes_ago(16))
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_photo_link_is_useless_for_another_users_analysis(
    user, other_user, client_for, media_root
):
    mine = _with_photo(user)
    theirs = _with_photo(other_user)
    url = _exported_rows(client_for(user))[str(mine.pk)]["photo_url"]
    token = url.rstrip("/").rsplit("/", 1)[1]

    # a token signed for this user but naming their analysis
    crossed = services.photo_link_token(analysis_id=theirs.pk, user_id=user.pk)
    # this user's token with the analysis id swapped, signature kept
    value, signature = token.rsplit(":", 1)
    forged_payload = signing.b64_encode(
        signing.JSONSerializer().dumps({"a": str(theirs.pk), "u": str(user.pk)})
    ).decode()
    timestamp = value.rsplit(":", 1)[1]
    forged = f"{forged_payload}:{timestamp}:{signature}"

    for bad in (crossed, forged):
        response = APIClient().get(f"/api/v1/analysis/photo-links/{bad}/")
        assert response.status_code == 404


def test_photo_link_stops_working_after_the_analysis_is_deleted(
    user, client_for, media_root
):
    analysis = _with_photo(user)
    client = client_for(user)
    url = _exported_rows(client)[str(analysis.pk)]["photo_url"]

    assert client.delete(f"/api/v1/analyses/{analysis.pk}/").status_code == 204

    assert APIClient().get(url).status_code == 404


def test_photo_link_stops_working_once_the_account_is_deleted(
    user, client_for, media_root
):
    analysis = _with_photo(user)
    url = _exported_rows(client_for(user))[str(analysis.pk)]["photo_url"]

    user.deleted_at = timezone.now()
    user.is_active = False
    user.save(update_fields=["deleted_at", "is_active"])

    assert APIClient().get(url).status_code == 404
