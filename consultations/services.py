"""The verbs of consultations: book, confirm, decline, cancel, reschedule, remind.

Race-freedom of booking. Every write that takes time on a dermatologist's schedule
first locks that dermatologist's row (an UPDATE that changes nothing, the first
statement of the transaction): on PostgreSQL that is a row lock, on SQLite it takes
the database's single write lock, where `select_for_update` would be a no-op. Under
the lock the service re-reads the active bookings and re-checks the slot, buffer
included, so concurrent bookings of one dermatologist queue up and all but the first
see the slot taken. On PostgreSQL the exclusion constraint (migration 0002) is the
database's own guarantee behind that: any write that would still overlap an active
consultation fails, and is reported as `SlotTaken` too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from accounts.services import update_profile
from analysis import selectors as analysis_selectors
from consultations import errors, selectors, slots
from consultations.models import (
    OVERLAP_CONSTRAINT,
    AvailabilityException,
    Consultation,
    ConsultationStatusChange,
    ConsultationType,
    Dermatologist,
    Language,
    SharedAnalysis,
    SharedAnalysisAccess,
    Specialty,
    WeeklyHours,
)
from notifications.services import Attachment, notify

if TYPE_CHECKING:
    from analysis.models import Analysis

logger = logging.getLogger(__name__)

Status = Consultation.Status


# ------------------------------------------------------------------------------
# Booking
# ------------------------------------------------------------------------------
def _lock_schedule(dermatologist_id) -> None:
    """Serialise schedule writes of one dermatologist until the transaction ends."""
    Dermatologist.objects.filter(pk=dermatologist_id).update(timezone=F("timezone"))


def _check_bookable(
    *, dermatologist: Dermatologist, start: datetime, duration: timedelta, now
) -> None:
    """Refuse a start that is not a slot of the dermatologist's working time."""
    if start <= now:
        raise errors.SlotInPast()
    if start > now + timedelta(days=dermatologist.horizon_days):
        raise errors.OutsideBookingHorizon()
    availability = selectors.availability_for(
        dermatologist=dermatologist, around=(start, start + duration)
    )
    if not slots.is_free_slot(
        availability=availability, start=start, duration=duration, bookings=[], now=now
    ):
        raise errors.SlotUnavailable()


def _check_free(
    *,
    dermatologist: Dermatologist,
    start: datetime,
    duration: timedelta,
    now,
    exclude_id=None,
) -> None:
    """Under the schedule lock: refuse a slot another active booking holds."""
    availability = selectors.availability_for(
        dermatologist=dermatologist, around=(start, start + duration)
    )
    bookings = selectors.active_bookings(
        dermatologist=dermatologist,
        between=(start, start + duration),
        exclude_id=exclude_id,
    )
    if not slots.is_free_slot(
        availability=availability,
        start=start,
        duration=duration,
        bookings=bookings,
        now=now,
    ):
        raise errors.SlotTaken()


def _lock_patient(patient_id) -> None:
    """Serialise one patient's bookings (across dermatologists) until commit.

    FOR NO KEY UPDATE: it does not block rows that only reference the patient.
    """
    list(
        get_user_model()
        .objects.select_for_update(no_key=True)
        .filter(pk=patient_id)
        .values_list("pk", flat=True)
    )


def _check_booking_limits(*, patient, dermatologist: Dermatologist, now) -> None:
    """Under the patient's lock: refuse a booking past the active-booking limits."""
    upcoming = Consultation.objects.filter(
        patient=patient, status__in=Consultation.ACTIVE_STATUSES, start__gt=now
    )
    limit = settings.CONSULTATION_MAX_ACTIVE_PER_PATIENT
    if upcoming.count() >= limit:
        raise errors.TooManyActiveBookings(
            f"You can have at most {limit} upcoming consultations at a time."
        )
    limit = settings.CONSULTATION_MAX_ACTIVE_PER_PAIR
    if upcoming.filter(dermatologist=dermatologist).count() >= limit:
        raise errors.TooManyActiveBookingsWithDermatologist(
            f"You can have at most {limit} upcoming consultations with one"
            " dermatologist at a time."
        )


def _is_overlap_violation(exc: IntegrityError) -> bool:
    return OVERLAP_CONSTRAINT in str(exc)


@contextmanager
def _taking_slot(
    *,
    dermatologist: Dermatologist,
    start: datetime,
    duration: timedelta,
    now: datetime,
    new_booking_of=None,
    moving_id=None,
) -> Iterator[None]:
    """Lock, re-check, then run the caller's write: how every booking takes time.

    The slot is checked first without a lock, then again inside one transaction
    that holds the dermatologist's schedule lock (and, for a new booking, the
    patient's lock, always taken second, with the active-booking limits re-counted
    under it). `moving_id` is the booking being moved: its own time does not block
    the move, and moving changes no count. A write that would still overlap an
    active consultation (the exclusion constraint) raises SlotTaken.
    """
    _check_bookable(
        dermatologist=dermatologist, start=start, duration=duration, now=now
    )
    try:
        with transaction.atomic():
            _lock_schedule(dermatologist.pk)
            if new_booking_of is not None:
                _lock_patient(new_booking_of.pk)
                _check_booking_limits(
                    patient=new_booking_of, dermatologist=dermatologist, now=now
                )
            _check_free(
                dermatologist=dermatologist,
                start=start,
                duration=duration,
                now=now,
                exclude_id=moving_id,
            )
            yield
    except IntegrityError as exc:
        if _is_overlap_violation(exc):
            raise errors.SlotTaken() from exc
        raise


def offered_type(*, dermatologist: Dermatologist, kind: str) -> ConsultationType:
    """The dermatologist's consultation type of this kind, or UnknownConsultationType.

    Reads `consultation_types.all()`, so a prefetched profile costs no query.
    """
    for consultation_type in dermatologist.consultation_types.all():
        if consultation_type.kind == kind:
            return consultation_type
    raise errors.UnknownConsultationType()


@dataclass(frozen=True)
class FreeSlots:
    consultation_type: ConsultationType
    slots: list[datetime]


def find_free_slots(
    *,
    dermatologist: Dermatologist,
    kind: str,
    window_start: datetime,
    window_end: datetime,
    now: datetime | None = None,
) -> FreeSlots:
    """Free start times (UTC) of one offered type in a window of at most 31 days."""
    if window_end <= window_start:
        raise errors.InvalidWindow()
    if window_end - window_start > timedelta(days=slots.MAX_WINDOW_DAYS):
        raise errors.WindowTooLong(
            f"A window spans at most {slots.MAX_WINDOW_DAYS} days."
        )
    consultation_type = offered_type(dermatologist=dermatologist, kind=kind)
    return FreeSlots(
        consultation_type=consultation_type,
        slots=selectors.free_slots(
            dermatologist=dermatologist,
            consultation_type=consultation_type,
            window_start=window_start,
            window_end=window_end,
            now=now or timezone.now(),
        ),
    )


def bookable_dermatologist(*, dermatologist_id) -> Dermatologist:
    """A verified, active dermatologist by id, or UnknownDermatologist."""
    dermatologist = (
        selectors.verified_dermatologists().filter(pk=dermatologist_id).first()
    )
    if dermatologist is None:
        raise errors.UnknownDermatologist()
    return dermatologist


def _shareable_analyses(*, patient, analysis_ids: Iterable) -> list[Analysis]:
    ids = list(dict.fromkeys(analysis_ids))
    if not ids:
        return []
    analyses = analysis_selectors.completed_analyses_among(user=patient, ids=ids)
    if len(analyses) != len(ids):
        raise errors.AnalysisNotShareable()
    return analyses


def book_consultation(
    *,
    patient,
    dermatologist: Dermatologist,
    kind: str,
    start: datetime,
    reason: str = "",
    analysis_ids: Iterable = (),
    consent_to_share: bool = False,
    now: datetime | None = None,
) -> Consultation:
    """Book a free slot; raise a ConsultationError (SlotTaken on a lost race).

    The active-booking limits are checked under the patient's lock (see
    `_taking_slot`), so concurrent bookings of one patient, even with different
    dermatologists, cannot pass them together.
    """
    now = now or timezone.now()
    if dermatologist.user_id == patient.pk:
        raise errors.CannotBookSelf()
    consultation_type = offered_type(dermatologist=dermatologist, kind=kind)
    analyses = _shareable_analyses(patient=patient, analysis_ids=analysis_ids)
    if analyses and not (patient.consent_share_with_dermatologists or consent_to_share):
        raise errors.ConsentRequired()
    with _taking_slot(
        dermatologist=dermatologist,
        start=start,
        duration=consultation_type.duration,
        now=now,
        new_booking_of=patient,
    ):
        if consent_to_share and not patient.consent_share_with_dermatologists:
            # Consent given at booking is the profile's consent from now on:
            # the dermatologist's access depends on it (selectors.visible_shares).
            update_profile(user=patient, consent_share_with_dermatologists=True)
        consultation = _insert_booking(
            patient=patient,
            dermatologist=dermatologist,
            consultation_type=consultation_type,
            start=start,
            reason=reason,
            now=now,
        )
        _share(
            consultation,
            analyses,
            consent_at=patient.consent_share_with_dermatologists_at,
        )
    return consultation


def _insert_booking(
    *,
    patient,
    dermatologist: Dermatologist,
    consultation_type: ConsultationType,
    start: datetime,
    reason: str,
    now: datetime,
) -> Consultation:
    """Write the booking at the type's length and price, its history and notices."""
    consultation = Consultation.objects.create(
        patient=patient,
        dermatologist=dermatologist,
        kind=consultation_type.kind,
        start=start,
        end=start + consultation_type.duration,
        fee=consultation_type.fee,
        currency=consultation_type.currency,
        reason=reason,
    )
    _record_change(consultation, "", Status.REQUESTED, by=patient, at=now)
    _notify_both(consultation, "booked")
    return consultation


def _share(consultation: Consultation, analyses: list[Analysis], *, consent_at) -> None:
    SharedAnalysis.objects.bulk_create(
        SharedAnalysis(
            consultation=consultation,
            analysis_id=analysis.pk,
            consent_given_at=consent_at,
        )
        for analysis in analyses
    )


def reschedule_consultation(
    *,
    consultation: Consultation,
    start: datetime,
    by,
    now: datetime | None = None,
) -> Consultation:
    """Move a booking to a new free slot; the old one is kept if that fails.

    The row moves in one UPDATE inside the transaction that holds the schedule lock,
    so the new time is taken in the same instant the old one is released. The
    booking goes back to `requested`: the dermatologist confirms the new time.
    """
    now = now or timezone.now()
    _check_patient_window(consultation, now)
    if not consultation.is_active:
        raise errors.InvalidStatusTransition()
    duration = consultation.end - consultation.start
    with _taking_slot(
        dermatologist=consultation.dermatologist,
        start=start,
        duration=duration,
        now=now,
        moving_id=consultation.pk,
    ):
        _move_booking(consultation, start=start, duration=duration, by=by, now=now)
    return consultation


def _move_booking(
    consultation: Consultation,
    *,
    start: datetime,
    duration: timedelta,
    by,
    now: datetime,
) -> None:
    """Move a still-active booking, back to `requested`; history and notices."""
    previous = (
        Consultation.objects.filter(
            pk=consultation.pk, status__in=Consultation.ACTIVE_STATUSES
        )
        .values_list("status", "start")
        .first()
    )
    if previous is None:
        raise errors.InvalidStatusTransition()
    previous_status, previous_start = previous
    Consultation.objects.filter(pk=consultation.pk).update(
        start=start,
        end=start + duration,
        status=Status.REQUESTED,
        reschedule_count=F("reschedule_count") + 1,
        reminder_24h_sent_at=None,
        reminder_1h_sent_at=None,
        updated_at=now,
    )
    consultation.refresh_from_db()
    change = _record_change(
        consultation,
        previous_status,
        Status.REQUESTED,
        by=by,
        at=now,
        previous_start=previous_start,
        note="rescheduled",
    )
    _notify_both(
        consultation,
        "rescheduled",
        key=f"rescheduled:{change.pk}",
        previous_starts_at=previous_start,
    )


# ------------------------------------------------------------------------------
# Status flow
# ------------------------------------------------------------------------------
def _record_change(
    consultation: Consultation,
    from_status: str,
    to_status: str,
    *,
    by,
    at: datetime,
    previous_start: datetime | None = None,
    note: str = "",
) -> ConsultationStatusChange:
    return ConsultationStatusChange.objects.create(
        consultation=consultation,
        from_status=from_status,
        to_status=to_status,
        changed_by=by,
        changed_at=at,
        previous_start=previous_start,
        note=note,
    )


def _transition(
    consultation: Consultation,
    *,
    allowed_from: Iterable[str],
    to: str,
    by,
    now: datetime,
    note: str = "",
    **fields: Any,
) -> Consultation:
    """Change status if the current one allows it, in a race-safe conditional write."""
    allowed_from = tuple(allowed_from)
    current = (
        Consultation.objects.select_for_update()
        .filter(pk=consultation.pk)
        .values_list("status", flat=True)
        .first()
    )
    updated = Consultation.objects.filter(
        pk=consultation.pk, status__in=allowed_from
    ).update(status=to, updated_at=now, **fields)
    if not updated:
        raise errors.InvalidStatusTransition()
    consultation.refresh_from_db()
    _record_change(consultation, current, to, by=by, at=now, note=note)
    return consultation


def _check_patient_window(consultation: Consultation, now: datetime) -> None:
    window = timedelta(hours=settings.CONSULTATION_CHANGE_WINDOW_HOURS)
    if consultation.start - now < window:
        raise errors.OutsideChangeWindow(
            f"Changes are possible up to {settings.CONSULTATION_CHANGE_WINDOW_HOURS}"
            " hours before the consultation."
        )


@transaction.atomic
def confirm_consultation(
    *, consultation: Consultation, by, now: datetime | None = None
) -> Consultation:
    """The dermatologist accepts a requested consultation."""
    now = now or timezone.now()
    if consultation.has_started(now):
        raise errors.InvalidStatusTransition("This consultation has already started.")
    _transition(
        consultation,
        allowed_from=Consultation.CONFIRMABLE_STATUSES,
        to=Status.CONFIRMED,
        by=by,
        now=now,
    )
    ics = calendar_for(consultation=consultation)
    _notify_both(
        consultation,
        "confirmed",
        key=f"confirmed:{consultation.reschedule_count}",
        attachments=[Attachment("consultation.ics", ics, "text/calendar")],
    )
    return consultation


@transaction.atomic
def decline_consultation(
    *, consultation: Consultation, by, reason: str = "", now: datetime | None = None
) -> Consultation:
    """The dermatologist refuses a requested (or takes back a confirmed) booking."""
    now = now or timezone.now()
    _transition(
        consultation,
        allowed_from=Consultation.ACTIVE_STATUSES,
        to=Status.DECLINED,
        by=by,
        now=now,
        note=reason,
        decline_reason=reason,
    )
    _notify_both(consultation, "declined", reason=reason)
    return consultation


@transaction.atomic
def cancel_consultation(
    *, consultation: Consultation, by, reason: str = "", now: datetime | None = None
) -> Consultation:
    """The patient cancels, up to the policy window before the start."""
    now = now or timezone.now()
    if not consultation.is_active:
        raise errors.InvalidStatusTransition()
    _check_patient_window(consultation, now)
    _transition(
        consultation,
        allowed_from=Consultation.ACTIVE_STATUSES,
        to=Status.CANCELLED,
        by=by,
        now=now,
        note=reason,
    )
    _notify_both(consultation, "cancelled", reason=reason)
    return consultation


def _check_started(consultation: Consultation, now: datetime) -> None:
    if not consultation.has_started(now):
        raise errors.InvalidStatusTransition("This consultation has not started yet.")


@transaction.atomic
def complete_consultation(
    *,
    consultation: Consultation,
    by,
    notes: str = "",
    recommended_routine: str = "",
    now: datetime | None = None,
) -> Consultation:
    """The dermatologist closes a held consultation with notes and a routine."""
    now = now or timezone.now()
    _check_started(consultation, now)
    _transition(
        consultation,
        allowed_from=Consultation.CLOSABLE_STATUSES,
        to=Status.COMPLETED,
        by=by,
        now=now,
        notes=notes,
        recommended_routine=recommended_routine,
    )
    if consultation.patient is not None:
        _notify(consultation, "completed", consultation.patient, notes=notes)
    return consultation


@transaction.atomic
def mark_no_show(
    *, consultation: Consultation, by, now: datetime | None = None
) -> Consultation:
    """The dermatologist records that the patient did not come."""
    now = now or timezone.now()
    _check_started(consultation, now)
    return _transition(
        consultation,
        allowed_from=Consultation.CLOSABLE_STATUSES,
        to=Status.NO_SHOW,
        by=by,
        now=now,
    )


# ------------------------------------------------------------------------------
# Shared analyses: revoke, access log
# ------------------------------------------------------------------------------
@transaction.atomic
def revoke_shares(
    *,
    consultation: Consultation,
    analysis_ids: Iterable | None = None,
    now: datetime | None = None,
) -> int:
    """The patient takes back shared analyses (all, or the given ones); idempotent.

    The shares stay, stamped `revoked_at`, as the record of what was shared when.
    Returns how many were revoked now.
    """
    now = now or timezone.now()
    shares = SharedAnalysis.objects.filter(consultation=consultation)
    if analysis_ids is not None:
        ids = set(analysis_ids)
        shared = set(
            shares.filter(analysis_id__in=ids).values_list("analysis_id", flat=True)
        )
        if shared != ids:
            raise errors.AnalysisNotShared()
        shares = shares.filter(analysis_id__in=ids)
    return shares.filter(revoked_at__isnull=True).update(revoked_at=now)


def record_share_access(
    *,
    shares: Iterable[SharedAnalysis],
    by,
    kind: str,
    now: datetime | None = None,
) -> list[SharedAnalysisAccess]:
    """Log that a dermatologist saw these shared analyses (or a photo of one)."""
    now = now or timezone.now()
    return SharedAnalysisAccess.objects.bulk_create(
        SharedAnalysisAccess(
            consultation_id=share.consultation_id,
            analysis_id=share.analysis_id,
            accessed_by=by,
            kind=kind,
            accessed_at=now,
        )
        for share in shares
    )


# ------------------------------------------------------------------------------
# Notifications, reminders, calendar
# ------------------------------------------------------------------------------
def _context(consultation: Consultation, **extra: Any) -> dict[str, Any]:
    patient = consultation.patient
    return {
        "consultation_id": str(consultation.pk),
        "starts_at": consultation.start,
        "dermatologist_name": consultation.dermatologist.display_name,
        "patient_name": patient.display_name if patient else "A former patient",
        "consultation_type": consultation.kind_label.lower(),
        **extra,
    }


def _notify(consultation, event: str, recipient, *, key: str | None = None, **extra):
    for_dermatologist = recipient.pk == consultation.dermatologist.user_id
    attachments = extra.pop("attachments", None)
    notify(
        user=recipient,
        kind=f"consultation_{event}",
        context=_context(consultation, for_dermatologist=for_dermatologist, **extra),
        idempotency_key=f"consultation:{consultation.pk}:{key or event}:{recipient.pk}",
        attachments=attachments,
        # The patient's name and words in the dermatologist's copy go when they do.
        about=[consultation.patient],
    )


def _notify_both(consultation, event: str, *, key: str | None = None, **extra) -> None:
    recipients = [consultation.patient, consultation.dermatologist.user]
    for recipient in recipients:
        if recipient is not None:
            _notify(consultation, event, recipient, key=key, **extra)


REMINDERS = (
    ("24h", timedelta(hours=24), "reminder_24h_sent_at", "in 24 hours"),
    ("1h", timedelta(hours=1), "reminder_1h_sent_at", "in 1 hour"),
)


def send_due_reminders(
    *, now: datetime | None = None, dry_run: bool = False
) -> dict[str, int]:
    """Send the 24 h and 1 h reminders that are due, each exactly once.

    A reminder is claimed by a conditional UPDATE of its stamp in the same transaction
    as its notifications, so two runs (even concurrent ones) send it once; the
    idempotency keys of the notifications are the second guard.
    """
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for label, lead, field, lead_text in REMINDERS:
        due = Consultation.objects.filter(
            status=Status.CONFIRMED,
            start__gt=now,
            start__lte=now + lead,
            **{f"{field}__isnull": True},
        )
        if label == "24h":
            # Too late for the day-before reminder: the hour-before one covers it.
            due = due.filter(start__gt=now + timedelta(hours=1))
        sent = 0
        for pk in due.values_list("pk", flat=True):
            if dry_run:
                sent += 1
                continue
            with transaction.atomic():
                claimed = Consultation.objects.filter(
                    pk=pk, status=Status.CONFIRMED, **{f"{field}__isnull": True}
                ).update(**{field: now})
                if not claimed:
                    continue
                consultation = Consultation.objects.select_related(
                    "patient", "dermatologist__user"
                ).get(pk=pk)
                _notify_both(
                    consultation,
                    "reminder",
                    key=f"reminder-{label}-{consultation.reschedule_count}",
                    lead_time=lead_text,
                )
            sent += 1
        counts[label] = sent
    return counts


def calendar_for(*, consultation: Consultation) -> str:
    """The consultation as an iCalendar (RFC 5545) document with one event.

    It names no patient and carries no reason: calendars are synced to third
    parties and outlive erasure; the dermatologist reads the reason on their page.
    """
    calendar = Calendar()
    calendar.add("prodid", "-//Skincare//Consultations//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"consultation-{consultation.pk}@skincare.local")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", consultation.start)
    event.add("dtend", consultation.end)
    event.add("sequence", consultation.reschedule_count)
    derm = consultation.dermatologist
    event.add(
        "summary", f"{consultation.kind_label} consultation with {derm.display_name}"
    )
    status = {
        Status.CONFIRMED: "CONFIRMED",
        Status.REQUESTED: "TENTATIVE",
        Status.COMPLETED: "CONFIRMED",
    }.get(consultation.status, "CANCELLED")
    event.add("status", status)
    organizer = vCalAddress(f"mailto:{derm.user.email}")
    organizer.params["cn"] = vText(derm.display_name)
    event.add("organizer", organizer)
    calendar.add_component(event)
    return calendar.to_ical().decode()


# ------------------------------------------------------------------------------
# Dermatologists' profiles and settings
# ------------------------------------------------------------------------------
@transaction.atomic
def create_dermatologist(
    *,
    user,
    credentials: str,
    licence_number: str,
    timezone: str = "Europe/Paris",
    bio: str = "",
    buffer_minutes: int = 0,
    minimum_notice_hours: int = 12,
    horizon_days: int = 60,
    photo=None,
    specialties: Iterable[Specialty] = (),
    languages: Iterable[Language] = (),
) -> Dermatologist:
    """A dermatologist's profile, unlisted until staff verify it.

    The admin's add form and the demo seeding both create profiles here.
    """
    if not user.is_dermatologist:
        raise errors.NotADermatologist()
    dermatologist = Dermatologist(
        user=user,
        credentials=credentials,
        licence_number=licence_number,
        timezone=timezone,
        bio=bio,
        buffer_minutes=buffer_minutes,
        minimum_notice_hours=minimum_notice_hours,
        horizon_days=horizon_days,
        photo=photo or "",
    )
    dermatologist.full_clean()
    dermatologist.save()
    dermatologist.specialties.set(specialties)
    dermatologist.languages.set(languages)
    return dermatologist


def ensure_specialty(*, slug: str, name: str) -> Specialty:
    """The specialty with this slug, created with `name` if missing."""
    specialty, _ = Specialty.objects.get_or_create(slug=slug, defaults={"name": name})
    return specialty


def ensure_language(*, code: str, name: str) -> Language:
    """The language with this code, created with `name` if missing."""
    language, _ = Language.objects.get_or_create(code=code, defaults={"name": name})
    return language


@transaction.atomic
def add_consultation_type(
    *,
    dermatologist: Dermatologist,
    kind: str,
    duration_minutes: int,
    fee: Decimal | str,
    currency: str = "EUR",
) -> ConsultationType:
    """Offer a kind of consultation at a length and a price."""
    consultation_type = ConsultationType(
        dermatologist=dermatologist,
        kind=kind,
        duration_minutes=duration_minutes,
        fee=Decimal(fee),
        currency=currency,
    )
    consultation_type.full_clean()
    consultation_type.save()
    return consultation_type


@transaction.atomic
def verify_dermatologist(*, dermatologist: Dermatologist, by) -> Dermatologist:
    """Staff vouch for the profile; only verified profiles are listed."""
    if dermatologist.verified_at is None:
        dermatologist.verified_at = timezone.now()
        dermatologist.verified_by = by
        dermatologist.save(update_fields=["verified_at", "verified_by"])
    return dermatologist


@transaction.atomic
def set_weekly_hours(
    *, dermatologist: Dermatologist, ranges: Iterable[tuple[int, Any, Any]]
) -> list[WeeklyHours]:
    """Replace the weekly working hours with (weekday, start, end) ranges."""
    _lock_schedule(dermatologist.pk)
    WeeklyHours.objects.filter(dermatologist=dermatologist).delete()
    return WeeklyHours.objects.bulk_create(
        WeeklyHours(dermatologist=dermatologist, weekday=w, start=s, end=e)
        for w, s, e in ranges
    )


@transaction.atomic
def add_availability_exception(
    *,
    dermatologist: Dermatologist,
    kind: str,
    start: datetime,
    end: datetime,
    note: str = "",
) -> AvailabilityException:
    """Add time off or extra hours between two naive local datetimes."""
    slots.AvailabilityException(kind, start, end)  # validates
    return AvailabilityException.objects.create(
        dermatologist=dermatologist,
        kind=kind,
        start_date=start.date(),
        start_time=start.time(),
        end_date=end.date(),
        end_time=end.time(),
        note=note,
    )


@transaction.atomic
def remove_availability_exception(*, dermatologist: Dermatologist, exception_id) -> int:
    deleted, _ = AvailabilityException.objects.filter(
        dermatologist=dermatologist, pk=exception_id
    ).delete()
    return deleted


# ------------------------------------------------------------------------------
# Data lifecycle (called by the accounts app's export and purge)
# ------------------------------------------------------------------------------
def export_user_data(*, user) -> dict[str, list[dict[str, Any]]]:
    """Everything consultations store about the user, as JSON-safe rows per model."""
    from accounts.lifecycle import export_rows

    consultations = Consultation.objects.filter(patient=user)
    data = {
        "consultations.Consultation": export_rows(consultations),
        "consultations.ConsultationStatusChange": export_rows(
            ConsultationStatusChange.objects.filter(consultation__patient=user)
        ),
        "consultations.SharedAnalysis": export_rows(
            SharedAnalysis.objects.filter(consultation__patient=user)
        ),
        # The patient's side (who saw their analyses) and a dermatologist's own.
        "consultations.SharedAnalysisAccess": export_rows(
            SharedAnalysisAccess.objects.filter(
                Q(consultation__patient=user) | Q(accessed_by=user)
            )
        ),
    }
    profile = Dermatologist.objects.filter(user=user).first()
    if profile is not None:
        data["consultations.Dermatologist"] = export_rows(
            Dermatologist.objects.filter(pk=profile.pk),
            many_to_many=("specialties", "languages"),
        )
        data["consultations.ConsultationType"] = export_rows(
            ConsultationType.objects.filter(dermatologist=profile)
        )
        data["consultations.WeeklyHours"] = export_rows(
            WeeklyHours.objects.filter(dermatologist=profile)
        )
        data["consultations.AvailabilityException"] = export_rows(
            AvailabilityException.objects.filter(dermatologist=profile)
        )
    return data


@transaction.atomic
def erase_user_data(*, user) -> None:
    """Anonymise the user's bookings and remove their shares (account purge).

    A patient's future active bookings are cancelled, freeing the slots; all their
    bookings stay only as anonymised records (no patient, reason, notes or shares).
    A dermatologist's profile is unlisted and stripped of its personal details; the
    consultations held stay for the patients' records.
    """
    now = timezone.now()
    for consultation in Consultation.objects.filter(
        patient=user, status__in=Consultation.ACTIVE_STATUSES
    ).select_related("dermatologist__user"):
        _transition(
            consultation,
            allowed_from=Consultation.ACTIVE_STATUSES,
            to=Status.CANCELLED,
            by=None,
            now=now,
            note="account erased",
        )
        if consultation.start > now:
            consultation.patient = None
            _notify(consultation, "cancelled", consultation.dermatologist.user)
    SharedAnalysis.objects.filter(consultation__patient=user).delete()
    SharedAnalysisAccess.objects.filter(consultation__patient=user).delete()
    SharedAnalysisAccess.objects.filter(accessed_by=user).update(accessed_by=None)
    ConsultationStatusChange.objects.filter(changed_by=user).update(changed_by=None)
    ConsultationStatusChange.objects.filter(consultation__patient=user).update(note="")
    Consultation.objects.filter(patient=user).update(
        patient=None,
        reason="",
        notes="",
        recommended_routine="",
        decline_reason="",
        anonymised_at=now,
        updated_at=now,
    )
    profile = Dermatologist.objects.filter(user=user).first()
    if profile is not None:
        if profile.photo:
            profile.photo.delete(save=False)
        profile.verified_at = None
        profile.bio = ""
        profile.licence_number = ""
        profile.photo = ""
        profile.save(update_fields=["verified_at", "bio", "licence_number", "photo"])
