"""Private media storage: the S3 backend's safe defaults, its failures, its probe.

Photos, raw uploads and backups go through Django's storage API (STORAGES): a
local folder by default, an S3-compatible bucket with STORAGE_URL
(skincare/storage_url.py). The bucket is private: objects are written with no ACL
(the bucket owner's only), server-side encryption is asked for on every write, and
the API streams a photo to whoever may see it instead of handing out bucket URLs.
A store that refuses or cannot be reached raises StorageUnavailable (503
`storage_unavailable`), never a bare 500.
"""

from __future__ import annotations

import logging
import posixpath
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import FileSystemStorage, Storage, storages
from storages.backends.s3 import S3Storage

from skincare.errors import DomainError

logger = logging.getLogger(__name__)
_sessions = threading.local()


class StorageUnavailable(DomainError):
    """The media store refused or could not be reached; nothing was changed."""

    status = 503
    code = "storage_unavailable"
    message = "Photo storage is briefly unavailable; try again shortly."


class PrivateS3Storage(S3Storage):
    """django-storages' S3Storage with a private bucket's defaults.

    No ACL is ever sent (objects belong to the bucket owner: never public-read), URLs
    are presigned and short-lived (`querystring_expire`, STORAGE_URL `expire`), a
    download larger than `max_memory_size` spools to a temporary file, and the
    client gives up quickly (connect 2 s, read 10 s, 2 attempts) so a request waits
    seconds, not minutes, for a dead store.
    """

    def get_default_settings(self):
        defaults = super().get_default_settings()
        defaults.update(
            default_acl=None,
            querystring_auth=True,
            querystring_expire=300,
            signature_version="s3v4",
            max_memory_size=8 * 1024 * 1024,
            connect_timeout=2,
            read_timeout=10,
            max_attempts=2,
        )
        return defaults

    def __init__(self, **settings):
        super().__init__(**settings)
        if self.default_acl:
            raise ValueError("PrivateS3Storage never sends an ACL")
        if self.endpoint_url and not self.addressing_style:
            self.addressing_style = "path"  # S3-compatible servers on an IP:port
        self.client_config = Config(
            s3={"addressing_style": self.addressing_style},
            signature_version=self.signature_version,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"max_attempts": self.max_attempts, "mode": "standard"},
        )

    def _create_session(self):
        """One boto3 session per thread and key pair, shared by storage instances.

        A session caches the S3 service model; a new one costs 0.3-0.9 s to load it
        again, which every fresh storage (a settings change, each test) would pay.
        Sessions are not thread-safe, hence one per thread.
        """
        if self.session_profile:
            return super()._create_session()
        cache = _sessions.__dict__.setdefault("by_key", {})
        key = (self.access_key, self.secret_key, self.security_token)
        if key not in cache:
            cache[key] = super()._create_session()
        return cache[key]

    def check(self) -> None:
        """Raise unless the bucket exists and these credentials may use it."""
        self.connection.meta.client.head_bucket(Bucket=self.bucket_name)


def _unavailable(exc: Exception) -> StorageUnavailable:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        reason = f"{error.get('Code', '?')}: {error.get('Message', '')}"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    logger.warning("media storage unavailable (%s)", reason)
    return StorageUnavailable()


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn the store's failures into StorageUnavailable; a missing file stays one.

    S3: any client error (bad credentials, missing bucket, 5xx) or transport error
    (refused, timed out). Local folder: any OSError but FileNotFoundError (disk
    full, permissions).
    """
    try:
        yield
    except FileNotFoundError:
        raise
    except (ClientError, BotoCoreError, OSError) as exc:
        raise _unavailable(exc) from exc
    except Exception as exc:
        # boto3's S3UploadFailedError wraps the ClientError of a failed upload.
        if type(exc).__module__.startswith(("boto3", "s3transfer")):
            raise _unavailable(exc) from exc
        raise


def media_storage() -> Storage:
    return storages["default"]


def backup_storage() -> Storage:
    return storages["backups"]


def is_local(storage: Storage) -> bool:
    return isinstance(storage, FileSystemStorage)


def describe(storage: Storage) -> str:
    """Where a storage keeps its files, for command output (no credentials)."""
    if isinstance(storage, S3Storage):
        prefix = f"/{storage.location}" if storage.location else ""
        return f"s3://{storage.bucket_name}{prefix}"
    if is_local(storage):
        return str(storage.location)
    return type(storage).__name__


def walk(storage: Storage, prefix: str = "") -> Iterator[str]:
    """Every file name under `prefix`, depth first (listdir is per level); none
    when a local folder does not exist."""
    try:
        directories, files = storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield posixpath.join(prefix, name) if prefix else name
    for directory in sorted(directories):
        yield from walk(storage, posixpath.join(prefix, directory))


def _probe_reason(exc: Exception) -> str:
    """What a failed probe of the bucket means, in words without secrets."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404 or code in ("404", "NoSuchBucket"):
            return "media bucket does not exist"
        if status in (401, 403) or code in ("InvalidAccessKeyId", "AccessDenied"):
            return "media store refused the credentials"
        return f"media store answered {status or code}"
    return "media store unreachable"


def check_media_storage() -> None:
    """Readiness: the bucket answers to our credentials, or the folder is writable.

    Raises StorageUnavailable whose message says which: a missing bucket, refused
    credentials or an unreachable store.
    """
    storage = media_storage()
    if isinstance(storage, PrivateS3Storage):
        try:
            storage.check()
        except (ClientError, BotoCoreError) as exc:
            raise StorageUnavailable(_probe_reason(exc)) from exc
        return
    if is_local(storage):
        import os
        from pathlib import Path

        root = Path(storage.location)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not os.access(root, os.W_OK | os.X_OK):
            raise PermissionError(f"{root} is not writable")
        return
    storage.listdir("")


def unavailable_page():
    """The 503 a server-rendered page (admin, dermatologists') answers on a store
    failure; the API answers its own error shape instead."""
    from django.http import HttpResponse

    response = HttpResponse(
        StorageUnavailable.message, status=503, content_type="text/plain"
    )
    response["Retry-After"] = "5"
    response["Cache-Control"] = "no-store"
    return response
