"""Verbs of the analysis domain: create, run, re-drive, delete, export, erase."""

from __future__ import annotations

import itertools
import logging
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botocore.exceptions import ClientError
from django.apps import apps
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from analysis import engine
from analysis.errors import (
    DEFAULT_REASON,
    FAILURE_REASONS,
    AnalysisError,
    DailyLimitReached,
    NothingToAnalyse,
    PhotoConsentRequired,
    PhotoLinkInvalid,
    PhotoRejected,
)
from analysis.models import Analysis, DailyAnalysisCount
from analysis.questionnaire import fuse, validate_answers
from notifications.services import notify
from skincare.storage import (
    PrivateS3Storage,
    StorageUnavailable,
    backup_storage,
    is_local,
    media_storage,
    storage_errors,
    walk,
)
from skincare.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

_FINISHED = (Analysis.Status.COMPLETED, Analysis.Status.FAILED)
# (path, mtime, size) of model files whose sha256 was already verified here.
_verified_models: set[tuple[str, int, int]] = set()


# ------------------------------------------------------------------------------
# Engine readiness
# ------------------------------------------------------------------------------
def check_engine() -> None:
    """Raise EngineUnavailable unless the landmark model file is present and intact.

    The sha256 is checked once per file version (path, mtime, size) per process, so
    the readiness probe stays cheap.
    """
    path = settings.LANDMARK_MODEL_PATH
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise engine.EngineUnavailable(
            "model_missing", f"No landmark model at {path}."
        ) from exc
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key in _verified_models:
        return
    engine.check_model(str(path))
    _verified_models.add(key)


# ------------------------------------------------------------------------------
# Creating
# ------------------------------------------------------------------------------
def accept_photo(*, photo: File) -> str:
    """Check the header and store the upload exactly as received; return its name.

    No pixel is decoded here (the worker does that, see `_prepare_photo`), so a
    48 MP photo costs the web process its header and a file copy. The raw file gets
    a random name and owner-only permissions (FILE_UPLOAD_PERMISSIONS) and is
    written through the storage API; a store that refuses raises StorageUnavailable
    (503), with nothing written.
    """
    try:
        engine.inspect_image(photo, max_bytes=settings.ANALYSIS_PHOTO_MAX_BYTES)
    except engine.ImageRejected as exc:
        raise PhotoRejected(exc.message, code=exc.code) from exc
    photo.seek(0)
    raw_field = Analysis._meta.get_field("raw_upload")
    with storage_errors():
        return raw_field.storage.save(
            raw_field.generate_filename(None, "upload"), photo
        )


def _open_stored(field_file) -> File:
    """A stored file opened and fetched for reading (caller closes it).

    The bytes are fetched here (an S3 object is downloaded, spooled to a temporary
    file past 8 MB), so a store failure raises StorageUnavailable now, not halfway
    through a decoder or a response. A missing file raises FileNotFoundError.
    """
    with storage_errors():
        handle = field_file.storage.open(field_file.name, "rb")
        try:
            handle.file  # noqa: B018 - fetches the object
        except BaseException:
            handle.close()
            raise
    return handle


def _delete_file(name: str) -> None:
    """Delete a stored photo; a storage error is logged, never raised."""
    storage = Analysis._meta.get_field("photo").storage
    try:
        storage.delete(name)
    except Exception:
        logger.exception("could not delete photo file %s", name)


def _delete_files_now(names: list[str]) -> None:
    """Delete stored files before the rows that name them; StorageUnavailable if the
    store fails (the caller's transaction then keeps the rows, so nothing is left
    in the store that no row points to). A file already gone is no error."""
    storage = Analysis._meta.get_field("photo").storage
    with storage_errors():
        for name in names:
            storage.delete(name)


def _today_for(user) -> tuple[date, int]:
    """The user's local date and the seconds until their next local midnight."""
    try:
        zone = ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    now = timezone.localtime(timezone.now(), zone)
    midnight = datetime.combine(now.date() + timedelta(days=1), time.min, zone)
    wait = (midnight.astimezone(UTC) - now.astimezone(UTC)).total_seconds()
    return now.date(), max(1, math.ceil(wait))


def _daily_limit_reached(wait: int) -> DailyLimitReached:
    limit = settings.ANALYSIS_MAX_PER_DAY
    return DailyLimitReached(
        f"You can start {limit} analyses a day; try again tomorrow.",
        retry_after=wait,
    )


def _check_daily_limit(*, user) -> None:
    """Refuse before anything is stored when today's allowance is used up."""
    day, wait = _today_for(user)
    if DailyAnalysisCount.objects.filter(
        user=user, day=day, count__gte=settings.ANALYSIS_MAX_PER_DAY
    ).exists():
        raise _daily_limit_reached(wait)


def _count_analysis(*, user) -> None:
    """Count one analysis for today, or raise; call inside the creating transaction.

    The conditional UPDATE decides: concurrent requests queue on the row lock and
    re-check the count, so at most ANALYSIS_MAX_PER_DAY of them succeed.
    """
    day, wait = _today_for(user)
    DailyAnalysisCount.objects.bulk_create(
        [DailyAnalysisCount(user=user, day=day)], ignore_conflicts=True
    )
    counted = DailyAnalysisCount.objects.filter(
        user=user, day=day, count__lt=settings.ANALYSIS_MAX_PER_DAY
    ).update(count=F("count") + 1)
    if not counted:
        raise _daily_limit_reached(wait)


def create_analysis(
    *,
    user,
    photo: File | bytes | None = None,
    answers: Mapping[str, Any] | None = None,
) -> Analysis:
    """Check the photo's header and/or the answers, store them, enqueue the analysis.

    The photo is stored as received (`raw_upload`); the worker decodes it and keeps
    only an EXIF-free re-encode. Nothing is written when a check fails or the
    user's daily allowance (ANALYSIS_MAX_PER_DAY, their local day) is used up.
    """
    if not photo and not answers:
        raise NothingToAnalyse("Send a photo, questionnaire answers, or both.")
    if photo and not user.consent_photo_analysis:
        raise PhotoConsentRequired(
            "Consent to photo analysis in your profile before sending a photo."
        )
    clean_answers = validate_answers(answers) if answers else None
    _check_daily_limit(user=user)
    if isinstance(photo, bytes):
        photo = ContentFile(photo, name="upload")
    name = accept_photo(photo=photo) if photo else ""
    try:
        with transaction.atomic():
            _count_analysis(user=user)
            analysis = Analysis.objects.create(
                user=user,
                raw_upload=name,
                answers=clean_answers,
                enqueued_at=timezone.now(),
            )
            _enqueue(analysis)
    except BaseException:
        if name:
            _delete_file(name)
        raise
    return analysis


def _enqueue(analysis: Analysis) -> None:
    from analysis.tasks import run_analysis_task

    enqueue_on_commit(run_analysis_task, str(analysis.pk))


# ------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------
@dataclass
class _Outcome:
    status: str
    failure_code: str = ""
    failure_detail: str = ""
    failure_advice: str = ""
    photo_result: dict | None = None
    profile: dict | None = None
    skin_type: str = ""
    scores: dict = field(default_factory=dict)
    engine_version: str = ""


def _stuck_cutoff() -> datetime:
    return timezone.now() - timedelta(minutes=settings.ANALYSIS_STUCK_AFTER_MINUTES)


def _claim(analysis_id) -> tuple[Analysis, datetime] | None:
    """Move a pending (or abandoned processing) analysis to processing; else None."""
    with transaction.atomic():
        analysis = (
            Analysis.objects.select_for_update(skip_locked=True)
            .filter(pk=analysis_id)
            .first()
        )
        if analysis is None or analysis.status in _FINISHED:
            return None
        if (
            analysis.status == Analysis.Status.PROCESSING
            and analysis.started_at is not None
            and analysis.started_at > _stuck_cutoff()
        ):
            return None  # another worker is on it
        analysis.status = Analysis.Status.PROCESSING
        analysis.started_at = timezone.now()
        analysis.attempts += 1
        analysis.save(update_fields=["status", "started_at", "attempts"])
    return analysis, analysis.started_at


def _failure(code: str, *, advice: str = "", detail: str = "", **extra) -> _Outcome:
    return _Outcome(
        status=Analysis.Status.FAILED,
        failure_code=code,
        failure_advice=advice or engine.QUALITY_ADVICE.get(code, ""),
        failure_detail=detail,
        **extra,
    )


def _scores_from(photo_result: Mapping[str, Any]) -> dict[str, dict]:
    """The per-concern part the API serves (raw metric values left in photo_result)."""
    return {
        concern: {
            "score": result["score"],
            "band": result["band"],
            "severe": result["severe"],
            "confidence": result["confidence"],
            "explanation": result["explanation"],
            "regions": result["regions"],
        }
        for concern, result in photo_result.get("concerns", {}).items()
    }


def _compute(analysis: Analysis) -> _Outcome:
    """Run the engine on the stored photo and fuse it with the answers."""
    photo_result = None
    if analysis.photo:
        try:
            with _open_stored(analysis.photo) as handle:
                data = handle.read()
        except FileNotFoundError as exc:
            return _failure(
                "photo_missing",
                advice="Please take a new photo.",
                detail=f"Stored photo unreadable: {exc}",
            )
        try:
            result = engine.analyse_photo(data, model_path=settings.LANDMARK_MODEL_PATH)
        except engine.EngineUnavailable as exc:
            return _failure(
                "engine_unavailable",
                advice="Our analysis service is unavailable. Please try again later.",
                detail=str(exc),
            )
        photo_result = result.to_dict()
        if result.status != "ok":
            return _failure(
                result.failure_code or "photo_unusable",
                advice=result.failure_advice or "",
                photo_result=photo_result,
                engine_version=result.engine_version,
            )
    elif not analysis.answers:
        return _failure("photo_missing", advice="Please take a new photo.")
    fused = fuse(photo_result, analysis.answers)
    return _Outcome(
        status=Analysis.Status.COMPLETED,
        photo_result=photo_result,
        profile=fused,
        skin_type=fused.get("skin_type") or "",
        scores=_scores_from(photo_result) if photo_result else {},
        engine_version=photo_result["engine_version"] if photo_result else "",
    )


def _notify_outcome(analysis: Analysis) -> None:
    if analysis.status == Analysis.Status.COMPLETED:
        top = max(
            analysis.scores.items(), key=lambda item: item[1]["score"], default=None
        )
        context = {
            "analysis_id": str(analysis.pk),
            "created_at": analysis.created_at,
            "skin_type": analysis.skin_type,
            "top_concern": top[0].replace("_", " ") if top else "",
        }
        kind = "analysis_ready"
    else:
        context = {
            "analysis_id": str(analysis.pk),
            "created_at": analysis.created_at,
            "reason": FAILURE_REASONS.get(analysis.failure_code, DEFAULT_REASON),
            "advice": analysis.failure_advice,
        }
        kind = "analysis_failed"
    notify(
        user=analysis.user,
        kind=kind,
        context=context,
        idempotency_key=f"analysis:{analysis.pk}:{analysis.status}",
    )


_OUTCOME_FIELDS = [
    "status",
    "failure_code",
    "failure_detail",
    "failure_advice",
    "photo_result",
    "profile",
    "skin_type",
    "scores",
    "engine_version",
]


def _finish(analysis_id, started_at: datetime, outcome: _Outcome) -> Analysis | None:
    """Record the outcome unless the claim was lost (deleted, re-run, taken over)."""
    with transaction.atomic():
        analysis = (
            Analysis.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=analysis_id)
            .first()
        )
        if (
            analysis is None
            or analysis.status != Analysis.Status.PROCESSING
            or analysis.started_at != started_at
        ):
            return analysis
        for name in _OUTCOME_FIELDS:
            setattr(analysis, name, getattr(outcome, name))
        analysis.completed_at = timezone.now()
        analysis.save(update_fields=[*_OUTCOME_FIELDS, "completed_at"])
        _notify_outcome(analysis)
    return analysis


def _claimed(analysis_id, started_at: datetime):
    """The locked row if this worker's claim still holds (inside a transaction)."""
    return (
        Analysis.objects.select_for_update(of=("self",))
        .filter(
            pk=analysis_id, status=Analysis.Status.PROCESSING, started_at=started_at
        )
        .first()
    )


def _prepare_photo(analysis: Analysis, started_at: datetime) -> _Outcome | None:
    """Decode the raw upload, store its EXIF-free re-encode, delete the raw file.

    Memory stays bounded for 48 MP photos (see engine.reencode_without_metadata);
    the engine later sees only the stored photo, at most
    ANALYSIS_STORED_PHOTO_MAX_SIDE. The raw file is deleted whether decoding
    succeeds or not; a failure comes back as the outcome to record (corrupt_image
    and the other upload codes). None means the photo is ready.
    """
    raw_name = analysis.raw_upload.name
    clean_name = ""
    outcome = None
    try:
        with _open_stored(analysis.raw_upload) as handle:
            clean = engine.reencode_without_metadata(
                handle,
                max_side=settings.ANALYSIS_STORED_PHOTO_MAX_SIDE,
                max_bytes=settings.ANALYSIS_PHOTO_MAX_BYTES,
            )
        photo_field = Analysis._meta.get_field("photo")
        with storage_errors():
            clean_name = photo_field.storage.save(
                photo_field.generate_filename(None, "photo.jpg"), ContentFile(clean)
            )
    except StorageUnavailable:
        raise  # not the photo's fault: run_analysis puts it back for a retry
    except engine.ImageRejected as exc:
        outcome = _failure(
            exc.code,
            advice="Please send the photo again, or take a new one.",
            detail=exc.message,
        )
    except FileNotFoundError as exc:
        outcome = _failure(
            "photo_missing",
            advice="Please take a new photo.",
            detail=f"Raw upload unreadable: {exc}",
        )
    except Exception as exc:
        logger.exception("could not prepare the photo of analysis %s", analysis.pk)
        outcome = _failure(
            "internal_error",
            advice="Something went wrong on our side. Please try again.",
            detail=f"{type(exc).__name__}: {exc}",
        )
    with transaction.atomic():
        row = _claimed(analysis.pk, started_at)
        if row is None:  # deleted or taken over: whoever has it owns the files
            if clean_name:
                transaction.on_commit(lambda: _delete_file(clean_name))
            return _failure("internal_error", detail="Claim lost while preparing.")
        row.raw_upload = ""
        if clean_name:
            row.photo = clean_name
        else:
            row.photo_deleted_at = timezone.now()
        row.save(update_fields=["raw_upload", "photo", "photo_deleted_at"])
        transaction.on_commit(lambda: _delete_file(raw_name))
    analysis.raw_upload = ""
    analysis.photo = row.photo
    analysis.photo_deleted_at = row.photo_deleted_at
    return outcome


def run_analysis(*, analysis_id) -> Analysis | None:
    """Run one analysis: pending -> processing -> completed or failed. Idempotent.

    A finished analysis, or one another worker is processing, is left alone. A
    photo still in its raw upload is prepared first. The engine runs outside any
    transaction, so no row lock is held while it works.
    """
    claimed = _claim(analysis_id)
    if claimed is None:
        return None
    analysis, started_at = claimed
    try:
        outcome = None
        if analysis.raw_upload:
            outcome = _prepare_photo(analysis, started_at)
        if outcome is None:
            outcome = _compute(analysis)
    except StorageUnavailable:
        _release(analysis_id, started_at)
        raise
    except Exception as exc:
        logger.exception("analysis %s failed unexpectedly", analysis_id)
        outcome = _failure(
            "internal_error",
            advice="Something went wrong on our side. Please try again.",
            detail=f"{type(exc).__name__}: {exc}",
        )
    return _finish(analysis_id, started_at, outcome)


def _release(analysis_id, started_at: datetime) -> None:
    """Hand a claimed analysis back as pending (the store failed; retry later).

    The attempt stays counted, so a store that never returns ends in
    processing_timeout through the re-drive command.
    """
    Analysis.objects.filter(
        pk=analysis_id, status=Analysis.Status.PROCESSING, started_at=started_at
    ).update(status=Analysis.Status.PENDING, started_at=None)


def _fail_now(analysis: Analysis, code: str, advice: str, detail: str = "") -> None:
    """Mark a locked analysis failed and tell the user (inside a transaction).

    A raw upload still waiting for the worker is deleted with it.
    """
    raw_name = analysis.raw_upload.name
    analysis.status = Analysis.Status.FAILED
    analysis.failure_code = code
    analysis.failure_advice = advice
    analysis.failure_detail = detail
    analysis.completed_at = timezone.now()
    if raw_name:
        analysis.raw_upload = ""
        analysis.photo_deleted_at = analysis.completed_at
        transaction.on_commit(lambda: _delete_file(raw_name))
    analysis.save(
        update_fields=[
            "status",
            "failure_code",
            "failure_advice",
            "failure_detail",
            "completed_at",
            "raw_upload",
            "photo_deleted_at",
        ]
    )
    _notify_outcome(analysis)


# ------------------------------------------------------------------------------
# Re-driving and re-running
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RedriveSummary:
    requeued: int
    timed_out: int


def stuck_analyses():
    """Pending analyses not picked up, and processing ones whose worker went quiet."""
    cutoff = _stuck_cutoff()
    return (
        Analysis.objects.annotate(last_enqueued=Coalesce("enqueued_at", "created_at"))
        .filter(
            Q(status=Analysis.Status.PENDING, last_enqueued__lt=cutoff)
            | Q(status=Analysis.Status.PROCESSING, started_at__lt=cutoff)
            | Q(status=Analysis.Status.PROCESSING, started_at__isnull=True)
        )
        .order_by("created_at")
    )


def redrive_stuck_analyses(*, dry_run: bool = False) -> RedriveSummary:
    """Re-enqueue stuck analyses; those out of attempts fail with processing_timeout."""
    requeued = timed_out = 0
    max_attempts = settings.ANALYSIS_MAX_ATTEMPTS
    for analysis_id in stuck_analyses().values_list("pk", flat=True):
        with transaction.atomic():
            analysis = (
                stuck_analyses()
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("user")
                .filter(pk=analysis_id)
                .first()
            )
            if analysis is None:
                continue
            if analysis.attempts >= max_attempts:
                timed_out += 1
                if not dry_run:
                    _fail_now(
                        analysis,
                        "processing_timeout",
                        "We could not process this analysis. Please try again.",
                        f"Gave up after {analysis.attempts} attempts.",
                    )
                continue
            requeued += 1
            if not dry_run:
                analysis.enqueued_at = timezone.now()
                analysis.save(update_fields=["enqueued_at"])
                _enqueue(analysis)
    return RedriveSummary(requeued=requeued, timed_out=timed_out)


def rerun_analysis(*, analysis: Analysis) -> Analysis:
    """Reset an analysis to pending (attempts too) and enqueue it again (staff)."""
    if not analysis.photo and not analysis.raw_upload and not analysis.answers:
        raise AnalysisError("The photo is gone and there are no answers.")
    with transaction.atomic():
        analysis.status = Analysis.Status.PENDING
        analysis.failure_code = ""
        analysis.failure_detail = ""
        analysis.failure_advice = ""
        analysis.attempts = 0
        analysis.started_at = None
        analysis.completed_at = None
        analysis.enqueued_at = timezone.now()
        analysis.save(
            update_fields=[
                "status",
                "failure_code",
                "failure_detail",
                "failure_advice",
                "attempts",
                "started_at",
                "completed_at",
                "enqueued_at",
            ]
        )
        _enqueue(analysis)
    return analysis


# ------------------------------------------------------------------------------
# Photos: reading, deleting, retention
# ------------------------------------------------------------------------------
def open_photo(*, analysis: Analysis) -> File | None:
    """The stored photo opened for reading (caller closes it), or None if gone.

    Other apps (consultations sharing) use this or read_photo, never a media or
    bucket URL. Raises StorageUnavailable when the store fails.
    """
    if not analysis.photo:
        return None
    try:
        return _open_stored(analysis.photo)
    except FileNotFoundError:
        logger.warning("photo of analysis %s is missing from storage", analysis.pk)
        return None


def read_photo(*, analysis: Analysis) -> bytes | None:
    """The stored (EXIF-free JPEG) photo bytes, or None if there is none."""
    handle = open_photo(analysis=analysis)
    if handle is None:
        return None
    with handle:
        return handle.read()


def delete_analysis(*, analysis: Analysis) -> None:
    """Delete the photo (and raw upload), then the result.

    The files go first: a store failure raises StorageUnavailable with the result
    kept (the user can retry), never a row-less photo left in the store.
    """
    with transaction.atomic():
        row = Analysis.objects.select_for_update().filter(pk=analysis.pk).first()
        if row is None:
            return
        _delete_files_now([n for n in (row.photo.name, row.raw_upload.name) if n])
        row.delete()


def purge_old_photos(*, dry_run: bool = False) -> int | None:
    """Delete photo files older than the retention period (scores stay).

    Returns how many were (or would be) purged; None when retention is off.
    Raises StorageUnavailable when the store fails (the rest waits for the next run).
    """
    days = settings.ANALYSIS_PHOTO_RETENTION_DAYS
    if days is None:
        return None
    now = timezone.now()
    queryset = Analysis.objects.exclude(photo="").filter(
        created_at__lt=now - timedelta(days=days), status__in=_FINISHED
    )
    if dry_run:
        return queryset.count()
    purged = 0
    for analysis_id in queryset.values_list("pk", flat=True):
        with transaction.atomic():
            analysis = (
                queryset.select_for_update(skip_locked=True)
                .filter(pk=analysis_id)
                .first()
            )
            if analysis is None:
                continue
            # the file first: a store failure (StorageUnavailable) keeps the row
            # naming it, and the next run deletes it
            _delete_files_now([analysis.photo.name])
            analysis.photo = ""
            analysis.photo_deleted_at = now
            analysis.save(update_fields=["photo", "photo_deleted_at"])
            purged += 1
    return purged


# ------------------------------------------------------------------------------
# Orphan sweep: files in the media storage that no row names
# ------------------------------------------------------------------------------
_SWEEP_BATCH = 500


@dataclass(frozen=True)
class SweepSummary:
    scanned: int
    referenced: int
    young: int
    # deleted, or that a dry run would delete
    orphans: tuple[str, ...]


def _file_fields() -> list[tuple[type[models.Model], str]]:
    """Every FileField (ImageField too) of every installed model.

    Read from the model registry rather than listed here, so a file field added to
    any app is protected from the sweep without touching it.
    """
    return [
        (model, model_field.name)
        for model in apps.get_models()
        for model_field in model._meta.concrete_fields
        if isinstance(model_field, models.FileField)
    ]


def _referenced(names: list[str]) -> set[str]:
    """Those of `names` that some row's file field names."""
    found: set[str] = set()
    for model, name in _file_fields():
        found.update(
            model._base_manager.filter(**{f"{name}__in": names}).values_list(
                name, flat=True
            )
        )
    return found


def _backups_inside(media: Storage) -> str | None:
    """The backup storage's folder inside the media storage, "" if they are one
    (then nothing is swept), None if the backups live elsewhere (the usual case:
    BACKUP_DIR beside MEDIA_ROOT, the bucket's backups/ beside media/)."""
    backups = backup_storage()
    if is_local(media) and is_local(backups):
        root = os.path.realpath(media.location)
        folder = os.path.realpath(backups.location)
        if folder == root or folder.startswith(root + os.sep):
            return os.path.relpath(folder, root).replace(os.sep, "/").strip(".")
        return None
    if isinstance(media, PrivateS3Storage) and isinstance(backups, PrivateS3Storage):
        if (media.bucket_name, media.endpoint_url) != (
            backups.bucket_name,
            backups.endpoint_url,
        ):
            return None
        root = media.location.strip("/")
        folder = backups.location.strip("/")
        if not root or folder == root or folder.startswith(root + "/"):
            return folder[len(root) :].strip("/")
    return None


def _listed(storage: Storage) -> Iterator[list[str]]:
    """The storage's file names in batches; StorageUnavailable if it cannot list."""
    names = walk(storage)
    while True:
        with storage_errors():
            batch = list(itertools.islice(names, _SWEEP_BATCH))
        if not batch:
            return
        yield batch


def _modified(storage: Storage, name: str) -> datetime | None:
    """When a stored file was last written; None if it is gone meanwhile."""
    try:
        with storage_errors():
            try:
                return storage.get_modified_time(name)
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status == 404:
                    return None
                raise
    except FileNotFoundError:
        return None


def sweep_orphan_media(
    *, dry_run: bool = False, now: datetime | None = None
) -> SweepSummary:
    """Delete media files that no row names and older than MEDIA_ORPHAN_GRACE_HOURS.

    They are what a store failure leaves when a file is deleted after its row let go
    of it (a raw upload after its analysis ran or timed out). The grace period keeps
    an upload in flight, stored but its row not yet committed; the backup storage is
    never swept, even when BACKUP_DIR lies inside MEDIA_ROOT. Idempotent. Raises
    StorageUnavailable when the store cannot list or delete: what was deleted until
    then is logged, the rest waits for the next run.
    """
    storage = media_storage()
    cutoff = (now or timezone.now()) - timedelta(
        hours=settings.MEDIA_ORPHAN_GRACE_HOURS
    )
    backups = _backups_inside(storage)
    if backups == "":
        logger.warning("media and backup storage are one place: nothing swept")
        return SweepSummary(scanned=0, referenced=0, young=0, orphans=())
    scanned = referenced = young = 0
    orphans: list[str] = []
    for batch in _listed(storage):
        if backups:
            batch = [
                name
                for name in batch
                if name != backups and not name.startswith(backups + "/")
            ]
        scanned += len(batch)
        named = _referenced(batch) if batch else set()
        referenced += len(named)
        for name in batch:
            if name in named:
                continue
            modified = _modified(storage, name)
            if modified is None:
                continue
            if modified >= cutoff:
                young += 1
                continue
            if not dry_run:
                with storage_errors():
                    storage.delete(name)
                logger.info("deleted orphan media file %s", name)
            orphans.append(name)
    logger.info(
        "orphan media sweep%s: scanned=%d referenced=%d young=%d %s=%d",
        " (dry run)" if dry_run else "",
        scanned,
        referenced,
        young,
        "would_delete" if dry_run else "deleted",
        len(orphans),
    )
    return SweepSummary(
        scanned=scanned, referenced=referenced, young=young, orphans=tuple(orphans)
    )


# ------------------------------------------------------------------------------
# Data lifecycle (account export and erasure)
# ------------------------------------------------------------------------------
PHOTO_LINK_SALT = "analysis.photo-link"
# Storage names are internal; the photo itself is served through the signed link.
_NOT_EXPORTED = ("photo", "raw_upload")


def photo_link_token(*, analysis_id, user_id) -> str:
    """A signed token naming the analysis and its owner, for the export's photo link."""
    payload = {"a": str(analysis_id), "u": str(user_id)}
    return signing.TimestampSigner(salt=PHOTO_LINK_SALT).sign_object(payload)


def analysis_for_photo_link(*, token: str) -> Analysis:
    """The analysis a photo link names, while the link is fresh and all still holds.

    Raises PhotoLinkInvalid when the signature is wrong or older than
    ANALYSIS_PHOTO_LINK_MAX_AGE, the analysis is gone or has no stored photo, it
    belongs to someone else than the signed owner, or that account is deleted.
    """
    signer = signing.TimestampSigner(salt=PHOTO_LINK_SALT)
    try:
        payload = signer.unsign_object(
            token, max_age=settings.ANALYSIS_PHOTO_LINK_MAX_AGE
        )
        analysis_id, user_id = payload["a"], payload["u"]
    except (signing.BadSignature, ValueError, TypeError, KeyError) as exc:
        raise PhotoLinkInvalid("This photo link is invalid or has expired.") from exc
    analysis = (
        Analysis.objects.filter(
            pk=analysis_id,
            user_id=user_id,
            user__is_active=True,
            user__deleted_at__isnull=True,
        )
        .exclude(photo="")
        .first()
    )
    if analysis is None:
        raise PhotoLinkInvalid("This photo link is invalid or has expired.")
    return analysis


def _export_row(row: dict[str, Any], *, has_photo: bool) -> dict[str, Any]:
    row["has_photo"] = has_photo
    row["photo_url"] = None
    row["photo_url_expires_at"] = None
    if has_photo:
        token = photo_link_token(analysis_id=row["id"], user_id=row["user_id"])
        row["photo_url"] = reverse("analysis-photo-link", kwargs={"token": token})
        row["photo_url_expires_at"] = (
            timezone.now() + timedelta(seconds=settings.ANALYSIS_PHOTO_LINK_MAX_AGE)
        ).isoformat()
    return row


def export_user_data(*, user) -> dict[str, list[dict[str, Any]]]:
    """Every field of the user's analyses, and signed links to their photos.

    Engine results are whole (`photo_result`); each stored photo has a `photo_url`
    that serves its EXIF-free JPEG, without a token, for
    ANALYSIS_PHOTO_LINK_MAX_AGE seconds (`photo_url_expires_at`).
    """
    from accounts.lifecycle import export_rows

    analyses = Analysis.objects.filter(user=user).order_by("created_at", "id")
    with_photo = {
        str(pk) for pk in analyses.exclude(photo="").values_list("pk", flat=True)
    }
    return {
        "analysis.Analysis": [
            _export_row(row, has_photo=row["id"] in with_photo)
            for row in export_rows(analyses, exclude=_NOT_EXPORTED)
        ],
        "analysis.DailyAnalysisCount": export_rows(
            DailyAnalysisCount.objects.filter(user=user).order_by("day")
        ),
    }


def erase_user_data(*, user) -> None:
    """Delete the user's photo files, then their analyses.

    A store failure raises StorageUnavailable and the erasure's transaction rolls
    back, so the purge retries it later rather than leave photos nobody can find.
    """
    with transaction.atomic():
        queryset = Analysis.objects.select_for_update().filter(user=user)
        names = [
            name
            for pair in queryset.values_list("photo", "raw_upload")
            for name in pair
            if name
        ]
        _delete_files_now(names)
        queryset.delete()
        DailyAnalysisCount.objects.filter(user=user).delete()
