"""Idempotency keys: claim one for a request, store its answer, expire old ones."""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from idempotency.errors import IdempotencyKeyInProgress, IdempotencyKeyReused
from idempotency.models import IdempotencyKey

# PostgreSQL's lock_not_available: lock_timeout ran out.
LOCK_NOT_AVAILABLE = "55P03"


@dataclass(frozen=True)
class Claim:
    """The key's row; `new` when this request inserted it and must do the work."""

    record: IdempotencyKey
    new: bool


@contextmanager
def _lock_wait(seconds: float):
    """Wait at most this long for another transaction's row (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('lock_timeout'), "
            "set_config('lock_timeout', %s, true)",
            [f"{max(int(seconds * 1000), 1)}ms"],
        )
        previous = cursor.fetchone()[0]
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def claim_key(
    *, scope: str, key: str, fingerprint: str, method: str, path: str
) -> Claim:
    """Insert the key for this request, or find the answer stored under it.

    Call inside the transaction that does the work. The row is inserted uncommitted,
    so a concurrent request with the same key blocks on the unique index until this
    transaction ends: it then finds the stored answer (committed) or inserts the key
    itself (rolled back). It waits IDEMPOTENCY_WAIT_SECONDS at most, then answers 409
    idempotency_key_in_progress. A key first used for another request answers 422
    idempotency_key_reused; an expired one is replaced.
    """
    now = timezone.now()
    for _ in range(3):
        try:
            with transaction.atomic(), _lock_wait(settings.IDEMPOTENCY_WAIT_SECONDS):
                record = IdempotencyKey.objects.create(
                    scope=scope,
                    key=key,
                    fingerprint=fingerprint,
                    method=method,
                    path=path[:255],
                    status_code=0,
                    body=b"",
                    created_at=now,
                    expires_at=now + timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS),
                )
            return Claim(record=record, new=True)
        except IntegrityError:
            pass
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            raise IdempotencyKeyInProgress(retry_after=1) from None
        record = IdempotencyKey.objects.filter(scope=scope, key=key).first()
        if record is None:  # purged between our insert and this read: insert again
            continue
        if record.expires_at <= now:
            IdempotencyKey.objects.filter(pk=record.pk, expires_at__lte=now).delete()
            continue
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        return Claim(record=record, new=False)
    raise IdempotencyKeyInProgress(retry_after=1)


def store_answer(
    *,
    record: IdempotencyKey,
    status_code: int,
    content_type: str,
    location: str,
    body: bytes,
) -> None:
    """Keep the answer to replay, in the transaction of the work it answers."""
    record.status_code = status_code
    record.content_type = content_type
    record.location = location
    record.body = body
    record.save(update_fields=["status_code", "content_type", "location", "body"])


def release_key(*, record: IdempotencyKey) -> None:
    """Forget a key whose request did no work worth replaying (a non-2xx answer)."""
    record.delete()


@dataclass
class PurgeSummary:
    deleted: int


def purge_expired_keys(*, dry_run: bool = False) -> PurgeSummary:
    """Delete keys past their lifetime (IDEMPOTENCY_KEY_HOURS); idempotent."""
    expired = IdempotencyKey.objects.filter(expires_at__lte=timezone.now())
    if dry_run:
        return PurgeSummary(deleted=expired.count())
    deleted, _ = expired.delete()
    return PurgeSummary(deleted=deleted)


def export_user_data(*, user) -> dict:
    """Nothing of its own: stored answers copy what the other apps export."""
    return {}


def erase_user_data(*, user) -> None:
    """Delete the keys and stored answers of the user and of their registration."""
    from accounts.signin import email_key

    scopes = [f"user:{user.pk}", f"register:{email_key(user.email)}"]
    IdempotencyKey.objects.filter(scope__in=scopes).delete()
