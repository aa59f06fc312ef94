"""STORAGE_URL parsing and the private S3 backend's defaults (no server needed)."""

import pytest

from skincare.storage import PrivateS3Storage
from skincare.storage_url import StorageURLError, s3_options, storages_for


def test_a_full_url_gives_every_option():
    options = s3_options(
        "s3://AK%2FID:se%2Bcret@s3.example.com:9000/bucket/prod?region=eu-west-1"
        "&expire=120",
        prefix="media",
    )

    assert options == {
        "access_key": "AK/ID",
        "secret_key": "se+cret",
        "bucket_name": "bucket",
        "endpoint_url": "https://s3.example.com:9000",
        "region_name": "eu-west-1",
        "location": "prod/media",
        "object_parameters": {"ServerSideEncryption": "AES256"},
        "querystring_expire": 120,
    }


def test_plain_http_and_no_encryption_are_said_explicitly():
    options = s3_options("s3+http://k:s@127.0.0.1:8333/b?sse=none", prefix="media")

    assert options["endpoint_url"] == "http://127.0.0.1:8333"
    assert options["object_parameters"] == {}


def test_no_host_means_aws_itself_and_kms_names_its_key():
    options = s3_options("s3://k:s@/b?sse=aws:kms&kms_key_id=alias/x", prefix="backups")

    assert options["endpoint_url"] is None
    assert options["object_parameters"] == {
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "alias/x",
    }


@pytest.mark.parametrize(
    "url",
    [
        "http://k:s@host/bucket",
        "s3://k:s@host/",
        "s3://host/bucket",
        "s3://k:s@host/bucket?sse=rot13",
        "s3://k:s@host/bucket?expire=forever",
        "s3://k:s@host/bucket?expire=86400",
        "s3://k:s@host/bucket?acl=public-read",
    ],
)
def test_a_url_that_cannot_be_understood_refuses_to_start(url):
    with pytest.raises(StorageURLError):
        s3_options(url, prefix="media")


def test_without_a_url_media_and_backups_stay_in_local_folders():
    storages = storages_for(storage_url="", backup_storage_url="", backup_dir="/b")

    assert storages["default"] == {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }
    assert storages["backups"]["OPTIONS"] == {"location": "/b"}


def test_backups_go_to_their_own_bucket_when_named():
    storages = storages_for(
        storage_url="s3://k:s@h/media-bucket",
        backup_storage_url="s3://k2:s2@h/backup-bucket",
        backup_dir="/unused",
    )

    assert storages["default"]["OPTIONS"]["bucket_name"] == "media-bucket"
    assert storages["default"]["OPTIONS"]["location"] == "media"
    assert storages["backups"]["OPTIONS"]["bucket_name"] == "backup-bucket"
    assert storages["backups"]["OPTIONS"]["location"] == "backups"


def test_the_private_backend_sends_no_acl_and_signs_short_urls():
    storage = PrivateS3Storage(
        **s3_options("s3+http://k:s@127.0.0.1:1/b", prefix="media")
    )

    assert storage.default_acl is None
    assert storage.querystring_auth is True
    assert storage.querystring_expire == 300
    assert "ACL" not in storage._get_write_parameters("photos/x.jpg")
    with pytest.raises(ValueError, match="never sends an ACL"):
        PrivateS3Storage(bucket_name="b", default_acl="public-read")
