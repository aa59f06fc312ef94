"""The per-user daily allowance of analyses (ANALYSIS_MAX_PER_DAY)."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from analysis.models import Analysis, DailyAnalysisCount
from analysis.tests.factories import face_jpeg_with_gps, stored_files

URL = "/api/v1/analyses/"
ANSWERS = {"questionnaire": {"after_wash": "tight_flaky"}}


def _photo():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("face.jpg", face_jpeg_with_gps(), "image/jpeg")


@pytest.mark.django_db
def test_analysis_over_the_daily_limit_answers_429_with_retry_after_and_stores_nothing(
    consenting_user, client_for, media_root, settings
):
    # given a user who used today's allowance
    settings.ANALYSIS_MAX_PER_DAY = 2
    client = client_for(consenting_user)
    for _ in range(2):
        assert client.post(URL, ANSWERS, format="json").status_code == 202

    # when they send one more, with a photo
    response = client.post(URL, {"photo": _photo()}, format="multipart")

    # then: 429 with the stable code and a wait until their midnight; nothing kept
    assert response.status_code == 429
    [error] = response.json()["errors"]
    assert error["code"] == "analysis_daily_limit"
    assert 0 < int(response["Retry-After"]) <= 25 * 3600
    assert Analysis.objects.count() == 2
    assert stored_files(media_root) == []
    assert DailyAnalysisCount.objects.get().count == 2


@pytest.mark.django_db
def test_deleting_analyses_does_not_free_the_daily_allowance(
    consenting_user, client_for, settings
):
    settings.ANALYSIS_MAX_PER_DAY = 1
    client = client_for(consenting_user)
    created = client.post(URL, ANSWERS, format="json").json()
    assert client.delete(f"{URL}{created['id']}/").status_code == 204

    response = client.post(URL, ANSWERS, format="json")

    assert response.status_code == 429
    assert not Analysis.objects.exists()


@pytest.mark.django_db
def test_allowance_is_counted_per_day_in_the_users_time_zone(
    consenting_user, client_for, settings
):
    # given a user in Auckland who used up yesterday's allowance
    settings.ANALYSIS_MAX_PER_DAY = 1
    consenting_user.timezone = "Pacific/Auckland"
    consenting_user.save(update_fields=["timezone"])
    today = timezone.localdate(timezone=consenting_user.zoneinfo)
    DailyAnalysisCount.objects.create(
        user=consenting_user, day=today - timedelta(days=1), count=1
    )

    # when they start one today
    response = client_for(consenting_user).post(URL, ANSWERS, format="json")

    # then it counts on their own date
    assert response.status_code == 202
    assert DailyAnalysisCount.objects.get(day=today).count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_cannot_pass_the_daily_limit(
    requires_postgres, consenting_user, settings
):
    settings.ANALYSIS_MAX_PER_DAY = 3
    threads_count = 8
    clients = []
    for _ in range(threads_count):
        client = APIClient()
        token = RefreshToken.for_user(consenting_user).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        clients.append(client)
    barrier = threading.Barrier(threads_count)
    statuses: list[int] = []
    lock = threading.Lock()

    def create(client):
        try:
            barrier.wait(timeout=10)
            response = client.post(URL, ANSWERS, format="json")
            with lock:
                statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [202] * 3 + [429] * 5
    assert Analysis.objects.filter(user=consenting_user).count() == 3
    assert DailyAnalysisCount.objects.get(user=consenting_user).count == 3
