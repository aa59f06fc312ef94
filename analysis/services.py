"""Verbs of the analysis domain: create, run, re-drive, delete, export, erase."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from analysis import engine
from analysis.errors import (
    DEFAULT_REASON,
    FAILURE_REASONS,
    AnalysisError,
    NothingToAnalyse,
    PhotoConsentRequired,
    PhotoRejected,
)
from analysis.models import Analysis
from analysis.questionnaire import fuse, validate_answers
from notifications.services import notify
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
def validate_photo(data: bytes) -> None:
    """Raise PhotoRejected (engine code) unless the bytes are a usable photo."""
    try:
        engine.check_image(data)
    except engine.ImageRejected as exc:
        raise PhotoRejected(exc.message, code=exc.code) from exc


def _store_photo(data: bytes) -> str:
    """Re-encode without metadata and save under a random name; return the name."""
    try:
        clean = engine.reencode_without_metadata(
            data, max_side=settings.ANALYSIS_STORED_PHOTO_MAX_SIDE
        )
    except engine.ImageRejected as exc:
        raise PhotoRejected(exc.message, code=exc.code) from exc
    photo_field = Analysis._meta.get_field("photo")
    name = photo_field.generate_filename(None, "photo.jpg")
    return photo_field.storage.save(name, ContentFile(clean))


def _delete_file(name: str) -> None:
    """Delete a stored photo; a storage error is logged, never raised."""
    storage = Analysis._meta.get_field("photo").storage
    try:
        storage.delete(name)
    except Exception:
        logger.exception("could not delete photo file %s", name)


def create_analysis(
    *, user, photo: bytes | None = None, answers: Mapping[str, Any] | None = None
) -> Analysis:
    """Validate and store a photo and/or answers, then enqueue the analysis.

    Nothing is written to storage unless the photo passed validation.
    """
    if not photo and not answers:
        raise NothingToAnalyse("Send a photo, questionnaire answers, or both.")
    if photo and not user.consent_photo_analysis:
        raise PhotoConsentRequired(
            "Consent to photo analysis in your profile before sending a photo."
        )
    clean_answers = validate_answers(answers) if answers else None
    name = ""
    if photo:
        validate_photo(photo)
        name = _store_photo(photo)
    try:
        with transaction.atomic():
            analysis = Analysis.objects.create(
                user=user,
                photo=name,
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
            with analysis.photo.open("rb") as handle:
                data = handle.read()
        except OSError as exc:
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


def run_analysis(*, analysis_id) -> Analysis | None:
    """Run one analysis: pending -> processing -> completed or failed. Idempotent.

    A finished analysis, or one another worker is processing, is left alone. The
    engine runs outside any transaction, so no row lock is held while it works.
    """
    claimed = _claim(analysis_id)
    if claimed is None:
        return None
    analysis, started_at = claimed
    try:
        outcome = _compute(analysis)
    except Exception as exc:
        logger.exception("analysis %s failed unexpectedly", analysis_id)
        outcome = _failure(
            "internal_error",
            advice="Something went wrong on our side. Please try again.",
            detail=f"{type(exc).__name__}: {exc}",
        )
    return _finish(analysis_id, started_at, outcome)


def _fail_now(analysis: Analysis, code: str, advice: str, detail: str = "") -> None:
    """Mark a locked analysis failed and tell the user (inside a transaction)."""
    analysis.status = Analysis.Status.FAILED
    analysis.failure_code = code
    analysis.failure_advice = advice
    analysis.failure_detail = detail
    analysis.completed_at = timezone.now()
    analysis.save(
        update_fields=[
            "status",
            "failure_code",
            "failure_advice",
            "failure_detail",
            "completed_at",
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
    if not analysis.photo and not analysis.answers:
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

    Other apps (consultations sharing) use this or read_photo, never a media URL.
    """
    if not analysis.photo:
        return None
    try:
        return analysis.photo.open("rb")
    except OSError:
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
    """Delete the result; the photo file goes once the deletion commits."""
    name = analysis.photo.name
    with transaction.atomic():
        analysis.delete()
        if name:
            transaction.on_commit(lambda: _delete_file(name))


def purge_old_photos(*, dry_run: bool = False) -> int | None:
    """Delete photo files older than the retention period (scores stay).

    Returns how many were (or would be) purged; None when retention is off.
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
            name = analysis.photo.name
            analysis.photo = ""
            analysis.photo_deleted_at = now
            analysis.save(update_fields=["photo", "photo_deleted_at"])
            transaction.on_commit(lambda name=name: _delete_file(name))
            purged += 1
    return purged


# ------------------------------------------------------------------------------
# Data lifecycle (account export and erasure)
# ------------------------------------------------------------------------------
def _export_row(analysis: Analysis) -> dict[str, Any]:
    photo_result = analysis.photo_result or {}
    return {
        "id": str(analysis.pk),
        "status": analysis.status,
        "created_at": analysis.created_at.isoformat(),
        "completed_at": analysis.completed_at.isoformat()
        if analysis.completed_at
        else None,
        "has_photo": bool(analysis.photo),
        "photo_deleted_at": analysis.photo_deleted_at.isoformat()
        if analysis.photo_deleted_at
        else None,
        "answers": analysis.answers,
        "skin_type": analysis.skin_type,
        "profile": analysis.profile,
        "scores": analysis.scores,
        "quality": photo_result.get("quality", []),
        "skin_tone": photo_result.get("skin_tone"),
        "failure_code": analysis.failure_code,
        "failure_advice": analysis.failure_advice,
        "engine_version": analysis.engine_version,
    }


def export_user_data(*, user) -> dict[str, list[dict[str, Any]]]:
    """Everything stored about the user's analyses, without photo bytes."""
    analyses = Analysis.objects.filter(user=user).order_by("created_at")
    return {"analysis.Analysis": [_export_row(a) for a in analyses]}


def erase_user_data(*, user) -> None:
    """Delete the user's analyses; their photo files go once the deletion commits."""
    with transaction.atomic():
        queryset = Analysis.objects.filter(user=user)
        names = [name for name in queryset.values_list("photo", flat=True) if name]
        queryset.delete()
        if names:
            transaction.on_commit(lambda: [_delete_file(name) for name in names])
