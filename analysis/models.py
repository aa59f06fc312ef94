import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from skincare.sync import Synced


def photo_path(instance, filename: str) -> str:
    """A random name that says nothing about the user or the upload."""
    return f"photos/{uuid.uuid4().hex}.jpg"


def raw_upload_path(instance, filename: str) -> str:
    """A random name, no extension: the raw upload is never served."""
    return f"uploads/{uuid.uuid4().hex}"


class Analysis(Synced):
    """One skin analysis of a user: a photo, questionnaire answers, or both."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="analyses"
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    photo = models.FileField(upload_to=photo_path, blank=True)
    # The upload as received (EXIF and all), until the worker re-encodes it into
    # `photo`; deleted by that step whether it succeeds or not.
    raw_upload = models.FileField(upload_to=raw_upload_path, blank=True)
    photo_deleted_at = models.DateTimeField(null=True, blank=True)
    answers = models.JSONField(null=True, blank=True)
    # The engine's whole output (per region values, quality stats, timings).
    photo_result = models.JSONField(null=True, blank=True)
    # The fused summary: skin type, 4-letter profile and which source gave what.
    profile = models.JSONField(null=True, blank=True)
    skin_type = models.CharField(max_length=16, blank=True)
    scores = models.JSONField(default=dict, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    # failure_detail is for staff (what went wrong); failure_advice is for the user.
    failure_detail = models.TextField(blank=True)
    failure_advice = models.TextField(blank=True)
    engine_version = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Last time a worker was asked to run it; the re-drive command reads it.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "analyses"
        indexes = [
            models.Index(fields=["user", "-created_at"], name="analysis_user_idx"),
            models.Index(fields=["user", "updated_at"], name="analysis_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(photo="")
                | ~Q(raw_upload="")
                | Q(answers__isnull=False)
                | ~Q(photo_deleted_at=None),
                name="analysis_has_photo_or_answers",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(failure_code=""),
                name="analysis_failed_has_code",
            ),
        ]

    def __str__(self) -> str:
        return f"analysis {self.id} ({self.status})"

    @property
    def has_photo(self) -> bool:
        return bool(self.photo)


class DailyAnalysisCount(models.Model):
    """How many analyses a user started on one day (their time zone).

    A counter rather than a count of rows, so deleting analyses frees no quota;
    the conditional increment in `create_analysis` makes the limit race-safe.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="daily_analysis_counts",
    )
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "day"], name="analysis_daily_count_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.count}"
