"""Photos in the media storage, on both backends: a local folder and a real S3 server.

`storage_backend` runs each test twice (filesystem, SeaweedFS bucket); the S3-only
tests check what a bucket adds: no public grant, server-side encryption, presigned
URLs that expire, and the bucket's own listing after an erasure.
"""

import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.lifecycle import purge_deleted_accounts
from analysis.models import Analysis, DailyAnalysisCount
from analysis.tests.factories import face_jpeg_with_gps, face_photo_form
from skincare.storage import walk

pytestmark = pytest.mark.django_db

URL = "/api/v1/analyses/"


def bucket_key(name: str) -> str:
    """The object key of a storage name (the storage's location prefix first)."""
    return f"{default_storage.location}/{name}"


def test_upload_writes_the_object_before_the_row_names_it(
    storage_backend, consenting_client, django_capture_on_commit_callbacks
):
    # when a photo is uploaded (the worker not run yet)
    with django_capture_on_commit_callbacks(execute=False):
        response = consenting_client.post(URL, face_photo_form(), format="multipart")

    # then the row names a raw upload that is in the store, byte for byte
    assert response.status_code == 202, response.json()
    analysis = Analysis.objects.get(pk=response.json()["id"])
    assert analysis.raw_upload.name.startswith("uploads/")
    assert list(walk(default_storage)) == [analysis.raw_upload.name]
    with default_storage.open(analysis.raw_upload.name, "rb") as handle:
        assert handle.read() == face_jpeg_with_gps()


def test_worker_replaces_the_raw_upload_and_the_owner_gets_the_photo(
    storage_backend,
    consenting_client,
    other_client,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = consenting_client.post(URL, face_photo_form(), format="multipart")
    analysis = Analysis.objects.get(pk=response.json()["id"])
    assert analysis.status == Analysis.Status.COMPLETED, analysis.failure_detail

    # the store holds the EXIF-free photo only
    assert list(walk(default_storage)) == [analysis.photo.name]
    with default_storage.open(analysis.photo.name, "rb") as handle:
        stored = handle.read()

    # streamed to its owner, never cached; another user gets 404
    photo = consenting_client.get(f"{URL}{analysis.pk}/photo/")
    assert photo.status_code == 200
    assert photo["Cache-Control"] == "no-store, private"
    assert b"".join(photo.streaming_content) == stored
    assert other_client.get(f"{URL}{analysis.pk}/photo/").status_code == 404


def test_delete_removes_the_object_and_the_row(
    storage_backend,
    consenting_client,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        created = consenting_client.post(
            URL, face_photo_form(), format="multipart"
        ).json()

    response = consenting_client.delete(f"{URL}{created['id']}/")

    assert response.status_code == 204
    assert not Analysis.objects.exists()
    assert list(walk(default_storage)) == []


def test_purge_of_an_erased_account_leaves_no_object(
    storage_backend,
    consenting_user,
    consenting_client,
    eager_celery,
    django_capture_on_commit_callbacks,
    request,
):
    # given two analyses, one processed and one still waiting for the worker
    with django_capture_on_commit_callbacks(execute=True):
        consenting_client.post(URL, face_photo_form(), format="multipart")
    with django_capture_on_commit_callbacks(execute=False):
        consenting_client.post(URL, face_photo_form(), format="multipart")
    assert len(list(walk(default_storage))) == 2

    # when the account is deleted and the purge runs after the retention period
    consenting_user.deleted_at = timezone.now()
    consenting_user.is_active = False
    consenting_user.save(update_fields=["deleted_at", "is_active"])
    summary = purge_deleted_accounts(now=timezone.now() + timedelta(days=400))

    # then no object is left, as the store itself lists it
    assert summary.purged == 1
    assert not Analysis.objects.exists()
    assert list(walk(default_storage)) == []
    if storage_backend == "s3":
        server = request.getfixturevalue("seaweedfs")
        assert server.list_keys(prefix=default_storage.location + "/") == []


# ------------------------------------------------------------------------------
# What a private bucket adds
# ------------------------------------------------------------------------------
def test_objects_are_encrypted_and_never_public(
    seaweedfs, use_bucket, consenting_client, django_capture_on_commit_callbacks
):
    use_bucket(seaweedfs.storage_url())
    with django_capture_on_commit_callbacks(execute=False):
        response = consenting_client.post(URL, face_photo_form(), format="multipart")
    name = Analysis.objects.get(pk=response.json()["id"]).raw_upload.name
    client = seaweedfs.client(admin=True)

    head = client.head_object(Bucket="media", Key=bucket_key(name))
    grants = client.get_object_acl(Bucket="media", Key=bucket_key(name))["Grants"]

    assert head["ServerSideEncryption"] == "AES256"
    assert [g["Grantee"].get("URI") for g in grants if "URI" in g["Grantee"]] == []
    unsigned = f"{seaweedfs.endpoint}/media/{bucket_key(name)}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=5)
    assert refused.value.code == 403


def test_a_presigned_url_works_until_it_expires(seaweedfs, use_bucket):
    """The API streams photos; a storage URL, if anything asks for one, is short."""
    use_bucket(seaweedfs.storage_url(expire="60"))
    name = default_storage.save("photos/presigned.jpg", SimpleUploadedFile("x", b"x"))

    assert "X-Amz-Expires=60" in default_storage.url(name)
    short = default_storage.url(name, expire=1)
    with urllib.request.urlopen(short, timeout=5) as fresh:
        assert fresh.read() == b"x"
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as expired:
        urllib.request.urlopen(short, timeout=5)
    assert expired.value.code == 403
    assert b"expired" in expired.value.read()


# ------------------------------------------------------------------------------
# A store that refuses: bad credentials, a missing bucket (the server is up)
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("problem", "reason"),
    [
        ("credentials", "media store refused the credentials"),
        ("bucket", "media bucket does not exist"),
    ],
)
def test_a_refusing_store_answers_503_and_stores_nothing(
    problem,
    reason,
    seaweedfs,
    use_bucket,
    consenting_user,
    consenting_client,
    api_client,
):
    api_client.raise_request_exception = False
    url = seaweedfs.storage_url()
    if problem == "credentials":
        url = url.replace(seaweedfs.secret_key, "wrong-secret")
    else:
        url = seaweedfs.storage_url(bucket="no-such-bucket")
    use_bucket(url)

    response = consenting_client.post(URL, face_photo_form(), format="multipart")
    ready = api_client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "storage_unavailable"
    assert not Analysis.objects.exists()
    assert not DailyAnalysisCount.objects.filter(count__gt=0).exists()
    assert ready.status_code == 503
    assert ready.json()["checks"]["storage"] == "down"
    assert ready.json()["reasons"]["storage"] == reason
