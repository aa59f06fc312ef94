"""Read queries of consultations, with the joins their callers need."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, F, Prefetch, Q, QuerySet

from analysis import selectors as analysis_selectors
from consultations import slots
from consultations.models import (
    AvailabilityException,
    Consultation,
    ConsultationType,
    Dermatologist,
    SharedAnalysis,
    SharedAnalysisAccess,
)

if TYPE_CHECKING:
    from analysis.models import Analysis


def verified_dermatologists() -> QuerySet[Dermatologist]:
    """Profiles shown to patients: verified ones, with what the list displays."""
    return (
        Dermatologist.objects.filter(verified_at__isnull=False, user__is_active=True)
        .select_related("user")
        .prefetch_related("specialties", "languages", "consultation_types")
    )


def consultations_for_patient(*, user) -> QuerySet[Consultation]:
    return (
        Consultation.objects.filter(patient=user)
        .select_related("dermatologist__user")
        .prefetch_related(
            Prefetch(
                "shares",
                queryset=SharedAnalysis.objects.only(
                    "id",
                    "analysis_id",
                    "consultation_id",
                    "consent_given_at",
                    "shared_at",
                    "revoked_at",
                ),
            )
        )
        .order_by("-start", "id")
    )


def visible_shares(*, dermatologist) -> QuerySet[SharedAnalysis]:
    """The shares a dermatologist may see now: the one rule every door applies.

    Sharing is consent, and it ends: only while the consultation is requested or
    confirmed (none after it ends), the patient has not revoked the share, the
    patient's account is active and not deleted, and the consents hold. A consent
    withdrawn and given again later has a newer stamp than the share, so the shares
    made before the withdrawal stay ended; photo consent only gates analyses with
    a photo.
    """
    patient = "consultation__patient__"
    photoless = analysis_selectors.analyses_without_photo().values("pk")
    return SharedAnalysis.objects.filter(
        Q(analysis_id__in=photoless)
        | Q(**{f"{patient}consent_photo_analysis_at__lte": F("shared_at")}),
        consultation__dermatologist=dermatologist,
        consultation__status__in=Consultation.ACTIVE_STATUSES,
        revoked_at__isnull=True,
        **{
            f"{patient}is_active": True,
            f"{patient}deleted_at__isnull": True,
            f"{patient}consent_share_with_dermatologists_at__lte": F(
                "consent_given_at"
            ),
        },
    )


def shown_analyses(
    *, dermatologist, consultation
) -> list[tuple[SharedAnalysis, Analysis]]:
    """The consultation's visible shares with their analyses, oldest analysis first."""
    shares = {
        share.analysis_id: share
        for share in visible_shares(dermatologist=dermatologist).filter(
            consultation=consultation
        )
    }
    if not shares:
        return []
    analyses = analysis_selectors.analyses_by_ids(ids=list(shares))
    return [(shares[analysis.pk], analysis) for analysis in analyses]


def shown_photo(
    *, dermatologist, consultation_id, analysis_id
) -> tuple[SharedAnalysis, Analysis] | None:
    """One visible share with its analysis, if the analysis has a photo."""
    share = (
        visible_shares(dermatologist=dermatologist)
        .filter(consultation_id=consultation_id, analysis_id=analysis_id)
        .first()
    )
    if share is None:
        return None
    analysis = next(iter(analysis_selectors.analyses_by_ids(ids=[analysis_id])), None)
    if analysis is None or not analysis.photo:
        return None
    return share, analysis


def share_accesses_for_patient(*, consultation) -> QuerySet[SharedAnalysisAccess]:
    """Who looked at what the patient shared in one consultation, newest first."""
    return (
        SharedAnalysisAccess.objects.filter(consultation=consultation)
        .select_related("accessed_by")
        .order_by("-accessed_at", "id")
    )


def dermatologist_of(*, user) -> Dermatologist | None:
    """The user's own dermatologist profile, if they have one."""
    return Dermatologist.objects.filter(user=user).first()


def exceptions_from(*, dermatologist, day) -> QuerySet[AvailabilityException]:
    """The dermatologist's time off and extra hours that end on or after `day`."""
    return AvailabilityException.objects.filter(
        dermatologist=dermatologist, end_date__gte=day
    )


def consultations_for_dermatologist(*, dermatologist) -> QuerySet[Consultation]:
    return Consultation.objects.filter(dermatologist=dermatologist).select_related(
        "patient"
    )


def availability_for(
    *, dermatologist: Dermatologist, around: tuple[datetime, datetime]
) -> slots.Availability:
    """Map a dermatologist's hours and the exceptions near `around` to slots' types."""
    first, last = around
    exceptions = AvailabilityException.objects.filter(
        dermatologist=dermatologist,
        end_date__gte=(first - timedelta(days=2)).date(),
        start_date__lte=(last + timedelta(days=2)).date(),
    )
    weekly: dict[int, list] = {}
    for hours in dermatologist.weekly_hours.all():
        weekly.setdefault(hours.weekday, []).append((hours.start, hours.end))
    return slots.Availability(
        timezone=dermatologist.timezone,
        weekly=weekly,
        exceptions=[x.as_slot_exception() for x in exceptions],
        buffer=timedelta(minutes=dermatologist.buffer_minutes),
        minimum_notice=timedelta(hours=dermatologist.minimum_notice_hours),
        horizon=timedelta(days=dermatologist.horizon_days),
    )


def active_bookings(
    *,
    dermatologist: Dermatologist,
    between: tuple[datetime, datetime],
    exclude_id=None,
) -> list[tuple[datetime, datetime]]:
    """Active consultations (start, end) touching the period, padded by the buffer."""
    pad = timedelta(minutes=dermatologist.buffer_minutes)
    queryset = Consultation.objects.filter(
        dermatologist=dermatologist,
        status__in=Consultation.ACTIVE_STATUSES,
        start__lt=between[1] + pad,
        end__gt=between[0] - pad,
    )
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    return list(queryset.values_list("start", "end"))


def free_slots(
    *,
    dermatologist: Dermatologist,
    consultation_type: ConsultationType,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
) -> list[datetime]:
    """Free start times (UTC) of one consultation type in a window."""
    duration = consultation_type.duration
    availability = availability_for(
        dermatologist=dermatologist, around=(window_start, window_end)
    )
    bookings = active_bookings(
        dermatologist=dermatologist, between=(window_start, window_end + duration)
    )
    return slots.free_slots(
        availability=availability,
        window_start=window_start,
        window_end=window_end,
        duration=duration,
        bookings=bookings,
        now=now,
    )


def agenda(
    *, dermatologist: Dermatologist, start: datetime, end: datetime
) -> QuerySet[Consultation]:
    """The dermatologist's consultations starting in [start, end)."""
    return (
        consultations_for_dermatologist(dermatologist=dermatologist)
        .filter(start__gte=start, start__lt=end)
        .order_by("start")
    )


def count_by_status() -> dict[str, int]:
    """Consultations per current status, every status present (operations)."""
    counts = dict.fromkeys(Consultation.Status.values, 0)
    counts.update(
        Consultation.objects.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return counts
