"""The S3 store goes down and comes back: 503s meanwhile, nothing lost, retries work.

A SeaweedFS server of this module's own (the session's one stays up for the other
tests) is killed and started again on the same ports and data.
"""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from accounts.lifecycle import purge_deleted_accounts
from analysis import services
from analysis.models import Analysis
from analysis.tests.factories import face_photo_form
from skincare.storage import StorageUnavailable, walk

pytestmark = pytest.mark.django_db

URL = "/api/v1/analyses/"


def test_upload_while_the_store_is_down_answers_503_then_a_retry_succeeds(
    bucket,
    consenting_client,
    api_client,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    # given the store is down
    api_client.raise_request_exception = False
    bucket.stop(kill=True)

    # when a photo is uploaded
    refused = consenting_client.post(URL, face_photo_form(), format="multipart")
    ready = api_client.get("/health/ready/")

    # then 503 with the error shape, nothing stored, readiness names the store
    assert refused.status_code == 503
    assert refused.json()["type"] == "server_error"
    assert refused.json()["errors"][0]["code"] == "storage_unavailable"
    assert not Analysis.objects.exists()
    assert ready.status_code == 503
    assert ready.json()["reasons"]["storage"] == "media store unreachable"

    # and once it is back the same upload goes through and is analysed
    bucket.start()
    with django_capture_on_commit_callbacks(execute=True):
        accepted = consenting_client.post(URL, face_photo_form(), format="multipart")
    assert accepted.status_code == 202, accepted.json()
    analysis = Analysis.objects.get()
    assert analysis.status == Analysis.Status.COMPLETED, analysis.failure_detail
    assert api_client.get("/health/ready/").json()["checks"]["storage"] == "ok"


def test_the_worker_hands_an_analysis_back_while_the_store_is_down(
    bucket, consenting_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = consenting_client.post(URL, face_photo_form(), format="multipart")
    analysis_id = response.json()["id"]
    bucket.stop(kill=True)

    with pytest.raises(StorageUnavailable):
        services.run_analysis(analysis_id=analysis_id)

    # pending again with its raw upload, not failed: the task's retry (or the
    # re-drive command) runs it once the store is back
    analysis = Analysis.objects.get(pk=analysis_id)
    assert analysis.status == Analysis.Status.PENDING
    assert analysis.raw_upload
    assert analysis.attempts == 1
    bucket.start()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.run_analysis(analysis_id=analysis_id).status == "completed"
    assert list(walk(default_storage)) == [Analysis.objects.get().photo.name]


def test_reading_a_photo_while_the_store_is_down_answers_503_on_every_door(
    bucket,
    consenting_client,
    admin_client,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        created = consenting_client.post(
            URL, face_photo_form(), format="multipart"
        ).json()
    admin_url = reverse("admin:analysis_analysis_photo", kwargs={"pk": created["id"]})
    admin_client.raise_request_exception = False
    bucket.stop(kill=True)

    api = consenting_client.get(f"{URL}{created['id']}/photo/")
    admin = admin_client.get(admin_url)

    assert api.status_code == 503
    assert api.json()["errors"][0]["code"] == "storage_unavailable"
    assert admin.status_code == 503
    bucket.start()
    assert consenting_client.get(f"{URL}{created['id']}/photo/").status_code == 200


def test_deletion_and_purge_wait_for_the_store_and_leave_no_object_behind(
    bucket,
    consenting_user,
    consenting_client,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        first = consenting_client.post(
            URL, face_photo_form(), format="multipart"
        ).json()
        consenting_client.post(URL, face_photo_form(), format="multipart")
    bucket.stop(kill=True)

    # a deletion answers 503 and keeps the result (its photo is still stored)
    deleted = consenting_client.delete(f"{URL}{first['id']}/")
    assert deleted.status_code == 503
    assert Analysis.objects.filter(pk=first["id"]).exists()

    # the purge of the deleted account fails, changes nothing, and retries later
    consenting_user.deleted_at = timezone.now()
    consenting_user.is_active = False
    consenting_user.save(update_fields=["deleted_at", "is_active"])
    later = timezone.now() + timedelta(days=400)
    assert purge_deleted_accounts(now=later).failed == 1
    assert Analysis.objects.count() == 2

    bucket.start()
    assert purge_deleted_accounts(now=later).purged == 1
    assert not Analysis.objects.exists()
    assert bucket.list_keys(prefix=default_storage.location + "/") == []
