"""The dermatologists' own pages: agenda, consultation detail, availability.

Server-rendered, session sign-in, CSRF-protected forms. Every view runs in the
dermatologist's time zone and sees only the dermatologist's own consultations.
"""

from datetime import date, datetime, time, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.forms import answer_429_when_limited
from analysis import services as analysis_services
from consultations import errors, selectors, services
from consultations.forms import (
    CompleteForm,
    DeclineForm,
    DermatologistSignInForm,
    ExceptionForm,
    WeeklyHoursFormSet,
)
from consultations.models import Consultation, SharedAnalysisAccess
from skincare.storage import StorageUnavailable, unavailable_page


@method_decorator(answer_429_when_limited, name="dispatch")
class DermatologistLoginView(LoginView):
    """Sign-in through accounts.signin: limits, lockout, dermatologists only."""

    template_name = "consultations/login.html"
    authentication_form = DermatologistSignInForm
    redirect_authenticated_user = True
    next_page = "dermatologist:agenda"


class DermatologistLogoutView(LogoutView):
    next_page = "dermatologist:login"


def dermatologist_required(view):
    """Signed-in users with the dermatologist role and a profile; others get 403."""

    @login_required
    @never_cache
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_dermatologist:
            raise PermissionDenied
        dermatologist = selectors.dermatologist_of(user=request.user)
        if dermatologist is None:
            raise PermissionDenied
        with timezone.override(dermatologist.zoneinfo):
            return view(request, dermatologist, *args, **kwargs)

    return wrapper


def _own_consultation(dermatologist, pk) -> Consultation:
    return get_object_or_404(
        selectors.consultations_for_dermatologist(
            dermatologist=dermatologist
        ).select_related("dermatologist__user"),
        pk=pk,
    )


@dermatologist_required
def agenda(request, dermatologist):
    """Consultations of one local day or week."""
    tz = dermatologist.zoneinfo
    view = "week" if request.GET.get("view") == "week" else "day"
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate(timezone=tz)
    if view == "week":
        first = day - timedelta(days=day.weekday())
        days = [first + timedelta(days=i) for i in range(7)]
        step = timedelta(days=7)
    else:
        first, days, step = day, [day], timedelta(days=1)
    start = datetime.combine(days[0], time(0), tzinfo=tz)
    end = datetime.combine(days[-1] + timedelta(days=1), time(0), tzinfo=tz)
    consultations = list(
        selectors.agenda(dermatologist=dermatologist, start=start, end=end)
    )
    by_day = {d: [] for d in days}
    for consultation in consultations:
        by_day[consultation.start.astimezone(tz).date()].append(consultation)
    return render(
        request,
        "consultations/agenda.html",
        {
            "dermatologist": dermatologist,
            "view": view,
            "day": day,
            "days": list(by_day.items()),
            "previous": first - step,
            "next": first + step,
            "today": timezone.localdate(timezone=tz),
            "pending": sum(
                c.status == Consultation.Status.REQUESTED for c in consultations
            ),
        },
    )


@dermatologist_required
def consultation_detail(request, dermatologist, pk):
    consultation = _own_consultation(dermatologist, pk)
    shown = selectors.shown_analyses(
        dermatologist=dermatologist, consultation=consultation
    )
    services.record_share_access(
        shares=[share for share, _ in shown],
        by=request.user,
        kind=SharedAnalysisAccess.Kind.ANALYSIS,
    )
    now = timezone.now()
    return render(
        request,
        "consultations/detail.html",
        {
            "dermatologist": dermatologist,
            "consultation": consultation,
            "analyses": [analysis for _, analysis in shown],
            "history": consultation.status_changes.select_related("changed_by"),
            "can_confirm": consultation.can_confirm(now=now),
            "can_decline": consultation.can_decline(),
            "can_close": consultation.can_close(now=now),
            "decline_form": DeclineForm(),
            "complete_form": CompleteForm(),
        },
    )


def _act(request, consultation, action, **kwargs):
    try:
        action(consultation=consultation, by=request.user, **kwargs)
    except errors.ConsultationError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, "Saved.")
    return redirect("dermatologist:consultation", pk=consultation.pk)


@require_POST
@dermatologist_required
def confirm(request, dermatologist, pk):
    consultation = _own_consultation(dermatologist, pk)
    return _act(request, consultation, services.confirm_consultation)


@require_POST
@dermatologist_required
def decline(request, dermatologist, pk):
    consultation = _own_consultation(dermatologist, pk)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The reason is too long.")
        return redirect("dermatologist:consultation", pk=pk)
    return _act(
        request,
        consultation,
        services.decline_consultation,
        reason=form.cleaned_data["reason"],
    )


@require_POST
@dermatologist_required
def complete(request, dermatologist, pk):
    consultation = _own_consultation(dermatologist, pk)
    form = CompleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The notes are too long.")
        return redirect("dermatologist:consultation", pk=pk)
    return _act(
        request, consultation, services.complete_consultation, **form.cleaned_data
    )


@require_POST
@dermatologist_required
def no_show(request, dermatologist, pk):
    consultation = _own_consultation(dermatologist, pk)
    return _act(request, consultation, services.mark_no_show)


@dermatologist_required
def shared_photo(request, dermatologist, pk, analysis_id):
    """A shared analysis' photo, while the share lasts; every serving is logged."""
    shown = selectors.shown_photo(
        dermatologist=dermatologist, consultation_id=pk, analysis_id=analysis_id
    )
    if shown is None:
        raise Http404
    share, analysis = shown
    try:
        photo = analysis_services.open_photo(analysis=analysis)
    except StorageUnavailable:
        return unavailable_page()
    if photo is None:
        raise Http404
    services.record_share_access(
        shares=[share], by=request.user, kind=SharedAnalysisAccess.Kind.PHOTO
    )
    response = FileResponse(photo, content_type="image/jpeg")
    response["Cache-Control"] = "no-store, private"
    return response


@dermatologist_required
def availability(request, dermatologist):
    """Weekly hours and dated exceptions (time off, extra hours)."""
    hours_formset = None
    exception_form = None
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "hours":
        hours_formset = WeeklyHoursFormSet(request.POST, prefix="hours")
        if hours_formset.is_valid():
            ranges = [f.range for f in hours_formset.forms if f.range is not None]
            services.set_weekly_hours(dermatologist=dermatologist, ranges=ranges)
            messages.success(request, "Weekly hours saved.")
            return redirect("dermatologist:availability")
    elif action == "exception":
        exception_form = ExceptionForm(request.POST)
        if exception_form.is_valid():
            data = exception_form.cleaned_data
            services.add_availability_exception(
                dermatologist=dermatologist,
                kind=data["kind"],
                start=data["start"],
                end=data["end"],
                note=data["note"],
            )
            messages.success(request, "Saved.")
            return redirect("dermatologist:availability")
    elif action == "delete_exception":
        services.remove_availability_exception(
            dermatologist=dermatologist, exception_id=request.POST.get("id")
        )
        messages.success(request, "Removed.")
        return redirect("dermatologist:availability")

    if hours_formset is None:
        initial = [
            {"weekday": h.weekday, "start": h.start, "end": h.end}
            for h in dermatologist.weekly_hours.all()
        ]
        hours_formset = WeeklyHoursFormSet(initial=initial, prefix="hours")
    today = timezone.localdate(timezone=dermatologist.zoneinfo)
    return render(
        request,
        "consultations/availability.html",
        {
            "dermatologist": dermatologist,
            "hours_formset": hours_formset,
            "exception_form": exception_form or ExceptionForm(),
            "exceptions": selectors.exceptions_from(
                dermatologist=dermatologist, day=today
            ),
            "agenda_url": reverse("dermatologist:agenda"),
        },
    )
