import pytest
from django.core.files.base import ContentFile

from analysis.models import Analysis
from analysis.tests.factories import (
    CompletedAnalysisFactory,
    face_jpeg_with_gps,
    stored_files,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/analyses/"


@pytest.fixture
def with_photo(user, media_root):
    """A completed analysis of `user` with a real stored photo file."""
    analysis = CompletedAnalysisFactory(user=user)
    analysis.photo.save("x.jpg", ContentFile(face_jpeg_with_gps()), save=True)
    return analysis


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("get", "photo/"), ("delete", "")]
)
def test_another_users_analysis_answers_404(other_client, with_photo, method, suffix):
    response = getattr(other_client, method)(f"{URL}{with_photo.pk}/{suffix}")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert Analysis.objects.filter(pk=with_photo.pk).exists()


def test_list_shows_only_own_analyses(auth_client, user, other_user):
    mine = CompletedAnalysisFactory(user=user)
    CompletedAnalysisFactory(user=other_user)

    response = auth_client.get(URL)

    assert [row["id"] for row in response.json()["results"]] == [str(mine.pk)]


def test_photo_is_served_privately_to_its_owner(auth_client, with_photo):
    response = auth_client.get(f"{URL}{with_photo.pk}/photo/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store, private"
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    assert body == with_photo.photo.open("rb").read()


def test_photo_of_an_analysis_without_one_answers_404(auth_client, user):
    analysis = CompletedAnalysisFactory(user=user, photo="", answers={"x": 1})

    response = auth_client.get(f"{URL}{analysis.pk}/photo/")

    assert response.status_code == 404


def test_delete_removes_the_result_and_the_photo_file(
    auth_client, with_photo, media_root, django_capture_on_commit_callbacks
):
    assert len(stored_files(media_root)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(f"{URL}{with_photo.pk}/")

    assert response.status_code == 204
    assert not Analysis.objects.filter(pk=with_photo.pk).exists()
    assert stored_files(media_root) == []


def test_detail_shows_scores_quality_and_disclaimer(auth_client, user):
    analysis = CompletedAnalysisFactory(user=user, score_values={"redness": 40})

    body = auth_client.get(f"{URL}{analysis.pk}/").json()

    assert body["scores"]["redness"]["score"] == 40
    assert body["scores"]["redness"]["band"] == "moderate"
    assert body["scores"]["redness"]["regions"]["forehead"]["score"] == 40
    assert body["quality"][0]["code"] == "blurred"
    assert "not a medical diagnosis" in body["disclaimer"]
    assert body["see_dermatologist"]["recommended"] is False
    assert body["photo_url"] == f"{URL}{analysis.pk}/photo/"


def test_severe_concern_recommends_a_dermatologist(auth_client, user):
    analysis = CompletedAnalysisFactory(
        user=user, score_values={"redness": 82, "shine": 10}
    )

    advice = auth_client.get(f"{URL}{analysis.pk}/").json()["see_dermatologist"]

    assert advice["recommended"] is True
    assert advice["concerns"] == ["redness"]
    assert "redness" in advice["reason"]
    assert advice["booking_path"] == "/api/v1/consultations/"


def test_severe_cosmetic_concern_alone_does_not_recommend_a_dermatologist(
    auth_client, user
):
    analysis = CompletedAnalysisFactory(
        user=user, score_values={"shine": 95, "dark_circles": 90, "redness": 30}
    )

    advice = auth_client.get(f"{URL}{analysis.pk}/").json()["see_dermatologist"]

    assert advice == {**advice, "recommended": False, "concerns": [], "reason": None}


@pytest.mark.parametrize("count", [2, 10])
def test_list_query_count_does_not_grow_with_the_list(
    auth_client, user, count, django_assert_num_queries
):
    CompletedAnalysisFactory.create_batch(count, user=user)

    # authentication (user), page count, page rows
    with django_assert_num_queries(3):
        response = auth_client.get(URL)

    assert response.json()["count"] == count
