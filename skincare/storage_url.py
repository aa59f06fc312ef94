"""STORAGE_URL to Django STORAGES entries (no Django import: settings.py reads it).

    s3://KEY:SECRET@host:port/bucket[/prefix]?region=eu-west-1&sse=AES256
    s3+http://KEY:SECRET@127.0.0.1:8333/bucket   (plain HTTP, loopback or a private
                                                   network only)
    s3://KEY:SECRET@/bucket?region=eu-west-1     (no host: AWS S3 itself)

Key and secret are URL-encoded (`/` is `%2F`). Query parameters: `region`
(default us-east-1), `sse` (server-side encryption asked for on every write:
`AES256`, the default, `aws:kms` with `kms_key_id`, or `none` for a store that
refuses the header), `expire` (seconds a presigned URL lives, default 300).
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

S3_BACKEND = "skincare.storage.PrivateS3Storage"
SCHEMES = {"s3": "https", "s3+https": "https", "s3+http": "http"}
SSE_MODES = {"aes256": "AES256", "aws:kms": "aws:kms", "none": None}


class StorageURLError(ValueError):
    """STORAGE_URL cannot be understood; settings refuse to start."""


def s3_options(url: str, *, prefix: str) -> dict:
    """OPTIONS of skincare.storage.PrivateS3Storage for the URL, keys under `prefix`.

    A path after the bucket in the URL goes before `prefix`
    (s3://k:s@h/bucket/prod + media -> keys under prod/media/).
    """
    parts = urlsplit(url)
    scheme = SCHEMES.get(parts.scheme)
    if scheme is None:
        raise StorageURLError(
            f"STORAGE_URL scheme must be one of {', '.join(SCHEMES)}, not "
            f"{parts.scheme!r}"
        )
    bucket, _, base = parts.path.lstrip("/").partition("/")
    if not bucket:
        raise StorageURLError(
            "STORAGE_URL names no bucket (s3://KEY:SECRET@host/BUCKET)"
        )
    if not parts.username or parts.password is None:
        raise StorageURLError("STORAGE_URL needs KEY:SECRET@ (URL-encoded)")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"region", "sse", "kms_key_id", "expire"}
    if unknown:
        raise StorageURLError(f"STORAGE_URL has unknown parameters: {sorted(unknown)}")
    sse_name = query.get("sse", "AES256").lower()
    if sse_name not in SSE_MODES:
        raise StorageURLError("STORAGE_URL sse must be AES256, aws:kms or none")
    sse = SSE_MODES[sse_name]
    object_parameters: dict[str, str] = {}
    if sse:
        object_parameters["ServerSideEncryption"] = sse
        if sse == "aws:kms" and query.get("kms_key_id"):
            object_parameters["SSEKMSKeyId"] = query["kms_key_id"]
    try:
        expire = int(query.get("expire", "300"))
    except ValueError as exc:
        raise StorageURLError("STORAGE_URL expire must be a number of seconds") from exc
    if not 1 <= expire <= 3600:
        raise StorageURLError("STORAGE_URL expire must be 1..3600 seconds")
    try:
        port = parts.port
    except ValueError as exc:
        raise StorageURLError(f"STORAGE_URL has a bad port: {exc}") from exc
    endpoint = None
    if parts.hostname:
        endpoint = f"{scheme}://{parts.hostname}" + (f":{port}" if port else "")
    location = "/".join(part for part in (base.strip("/"), prefix) if part)
    return {
        "access_key": unquote(parts.username),
        "secret_key": unquote(parts.password),
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": query.get("region", "us-east-1"),
        "location": location,
        "object_parameters": object_parameters,
        "querystring_expire": expire,
    }


def storages_for(
    *,
    storage_url: str,
    backup_storage_url: str,
    backup_dir: str,
) -> dict[str, dict]:
    """The `default` (media) and `backups` STORAGES entries.

    Without STORAGE_URL both are local folders (MEDIA_ROOT, BACKUP_DIR); with it the
    media go under `media/` of the bucket, and the backups under `backups/` of
    BACKUP_STORAGE_URL's bucket (better another bucket, another account) or, if unset,
    of the same bucket.
    """
    local = "django.core.files.storage.FileSystemStorage"
    if storage_url:
        default = {
            "BACKEND": S3_BACKEND,
            "OPTIONS": s3_options(storage_url, prefix="media"),
        }
    else:
        # No location option: the folder follows MEDIA_ROOT (tests override it).
        default = {"BACKEND": local}
    backups_url = backup_storage_url or storage_url
    if backups_url:
        backups = {
            "BACKEND": S3_BACKEND,
            "OPTIONS": s3_options(backups_url, prefix="backups"),
        }
    else:
        backups = {"BACKEND": local, "OPTIONS": {"location": backup_dir}}
    return {"default": default, "backups": backups}
