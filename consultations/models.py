"""Dermatologists, their availability, and consultations booked with them.

The rule that two active consultations of one dermatologist never overlap is kept by
the database on PostgreSQL: an exclusion constraint over tstzrange(start, end) with
dermatologist equality, limited to active statuses. It is created by migration 0002
through a vendor-conditional operation and deliberately kept out of `Meta.constraints`:
SQLite cannot evaluate it, and Django would otherwise run it in `validate_constraints`
(admin forms) on every engine. On SQLite the booking service serialises writers
instead (see `services._lock_schedule`).
"""

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.validators import validate_timezone
from consultations import slots
from skincare.sync import Synced

OVERLAP_CONSTRAINT = "consultation_no_overlap"


def dermatologist_photo_path(instance, filename: str) -> str:
    """A random name that says nothing about the uploader."""
    return f"dermatologists/{uuid.uuid4().hex}.jpg"


class Specialty(models.Model):
    """A field of dermatology a dermatologist practises (acne, paediatric, ...)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "specialties"

    def __str__(self) -> str:
        return self.name


class Language(models.Model):
    """A language a consultation can be held in (ISO 639-1 code)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=16, unique=True)
    name = models.CharField(max_length=64)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Dermatologist(models.Model):
    """The public profile of a user with the dermatologist role."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="dermatologist_profile",
        limit_choices_to={"role": "dermatologist"},
    )
    credentials = models.CharField(max_length=200, help_text="e.g. MD, board-certified")
    licence_number = models.CharField(max_length=64)
    specialties = models.ManyToManyField(Specialty, blank=True, related_name="+")
    languages = models.ManyToManyField(Language, blank=True, related_name="+")
    bio = models.TextField(blank=True)
    photo = models.ImageField(upload_to=dermatologist_photo_path, blank=True)
    timezone = models.CharField(
        max_length=64, default="Europe/Paris", validators=[validate_timezone]
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        default=0, help_text="Free time kept between two consultations."
    )
    minimum_notice_hours = models.PositiveSmallIntegerField(
        default=12, help_text="How long before a slot it can still be booked."
    )
    horizon_days = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(1)],
        help_text="How far ahead slots can be booked.",
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name", "id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"Dr {self.user.get_full_name()}".strip() if self.user_id else "-"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def zoneinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ConsultationType(models.Model):
    """A kind of consultation a dermatologist offers, with its length and fee."""

    class Kind(models.TextChoices):
        VIDEO = "video", "Video"
        IN_PERSON = "in_person", "In person"
        PHONE = "phone", "Phone"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dermatologist = models.ForeignKey(
        Dermatologist, on_delete=models.CASCADE, related_name="consultation_types"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(5)]
    )
    fee = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(max_length=3, default="EUR")

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["dermatologist", "kind"], name="consultation_type_unique_kind"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5), name="consultation_type_min_5"
            ),
            models.CheckConstraint(
                condition=Q(fee__gte=0), name="consultation_type_fee_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.duration_minutes} min"

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class WeeklyHours(models.Model):
    """One working range on a weekday, in the dermatologist's wall-clock time."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dermatologist = models.ForeignKey(
        Dermatologist, on_delete=models.CASCADE, related_name="weekly_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    # 00:00 means midnight at the end of the day.
    end = models.TimeField()

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name_plural = "weekly hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="weekly_hours_weekday"
            ),
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")) | Q(end=time(0)),
                name="weekly_hours_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class AvailabilityException(models.Model):
    """Dated time off or extra hours, in the dermatologist's wall-clock time."""

    class Kind(models.TextChoices):
        OFF = "off", "Time off"
        EXTRA = "extra", "Extra hours"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dermatologist = models.ForeignKey(
        Dermatologist, on_delete=models.CASCADE, related_name="exceptions"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Naive local wall-clock times (a date and a time), never converted to UTC here:
    # the slot arithmetic maps them to UTC day by day, DST included.
    start_date = models.DateField()
    start_time = models.TimeField(default=time(0))
    end_date = models.DateField()
    end_time = models.TimeField(default=time(0))
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start_date", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date"))
                | Q(
                    end_date=models.F("start_date"), end_time__gt=models.F("start_time")
                ),
                name="availability_exception_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.local_start:%Y-%m-%d %H:%M}"

    @property
    def local_start(self) -> datetime:
        return datetime.combine(self.start_date, self.start_time)

    @property
    def local_end(self) -> datetime:
        return datetime.combine(self.end_date, self.end_time)

    def as_slot_exception(self) -> slots.AvailabilityException:
        return slots.AvailabilityException(self.kind, self.local_start, self.local_end)


class Consultation(Synced):
    """A patient's booking of one consultation with a dermatologist."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        CONFIRMED = "confirmed", "Confirmed"
        COMPLETED = "completed", "Completed"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    ACTIVE_STATUSES = (Status.REQUESTED, Status.CONFIRMED)
    # The statuses the dermatologist's actions start from: confirm a request before
    # its start; complete or mark a no-show ("close") a confirmed one once started;
    # decline any active one. The services' conditional writes use these too.
    CONFIRMABLE_STATUSES = (Status.REQUESTED,)
    CLOSABLE_STATUSES = (Status.CONFIRMED,)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # NULL once the patient's account is erased: the booking stays, anonymised.
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consultations",
    )
    dermatologist = models.ForeignKey(
        Dermatologist, on_delete=models.PROTECT, related_name="consultations"
    )
    # The type, its length and price are copied at booking: later changes to the
    # dermatologist's offer do not rewrite what was agreed.
    kind = models.CharField(max_length=16, choices=ConsultationType.Kind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    fee = models.DecimalField(max_digits=8, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.REQUESTED, db_index=True
    )
    reason = models.TextField(blank=True)
    decline_reason = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    recommended_routine = models.TextField(blank=True)
    reschedule_count = models.PositiveSmallIntegerField(default=0)
    reminder_24h_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_1h_sent_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(
                fields=["dermatologist", "start"], name="consultation_derm_idx"
            ),
            models.Index(fields=["patient", "-start"], name="consultation_patient_idx"),
            models.Index(
                fields=["patient", "updated_at"], name="consultation_updated_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")),
                name="consultation_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(fee__gte=0), name="consultation_fee_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"consultation {self.id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def kind_label(self) -> str:
        return self.get_kind_display()

    def has_started(self, now: datetime) -> bool:
        return self.start <= now

    def can_confirm(self, *, now: datetime) -> bool:
        return self.status in self.CONFIRMABLE_STATUSES and not self.has_started(now)

    def can_decline(self) -> bool:
        return self.is_active

    def can_close(self, *, now: datetime) -> bool:
        """Complete or mark a no-show."""
        return self.status in self.CLOSABLE_STATUSES and self.has_started(now)


class ConsultationStatusChange(models.Model):
    """One change of a consultation's status (or time), who made it and when."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(
        max_length=16, choices=Consultation.Status.choices, blank=True
    )
    to_status = models.CharField(max_length=16, choices=Consultation.Status.choices)
    # NULL for system changes (account erasure) and once the actor's account is gone.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField()
    previous_start = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class SharedAnalysis(models.Model):
    """A patient's analysis made visible to the dermatologist of one consultation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="shares"
    )
    analysis = models.ForeignKey(
        "analysis.Analysis", on_delete=models.CASCADE, related_name="+"
    )
    consent_given_at = models.DateTimeField()
    shared_at = models.DateTimeField(auto_now_add=True)
    # Set when the patient takes the share back; the row stays as the record of it.
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["shared_at", "id"]
        verbose_name_plural = "shared analyses"
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "analysis"], name="shared_analysis_unique"
            )
        ]

    def __str__(self) -> str:
        return f"analysis {self.analysis_id} shared in {self.consultation_id}"


class SharedAnalysisAccess(models.Model):
    """One look by a dermatologist at a shared analysis or its photo (audit trail)."""

    class Kind(models.TextChoices):
        ANALYSIS = "analysis", "Analysis on the consultation page"
        PHOTO = "photo", "Photo"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="share_accesses"
    )
    # Kept (as NULL) when the patient deletes the analysis: the look still happened.
    analysis = models.ForeignKey(
        "analysis.Analysis",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # NULL once the dermatologist's account is erased.
    accessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    accessed_at = models.DateTimeField()

    class Meta:
        ordering = ["-accessed_at", "id"]
        verbose_name_plural = "shared analysis accesses"
        indexes = [
            models.Index(
                fields=["consultation", "-accessed_at"],
                name="share_access_consult_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of analysis {self.analysis_id} at {self.accessed_at}"
