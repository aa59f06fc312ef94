"""Forms of the dermatologists' pages."""

from datetime import datetime, time, timedelta

from django import forms

from accounts.forms import SignInForm
from consultations.models import AvailabilityException, WeeklyHours


class DermatologistSignInForm(SignInForm):
    """Admits only dermatologist accounts; any other reads as a wrong password."""

    def admits(self, user) -> bool:
        return user.is_dermatologist


class DeclineForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False
    )


class CompleteForm(forms.Form):
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), max_length=10000, required=False
    )
    recommended_routine = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10000,
        required=False,
        help_text="Free text: products and steps, AM and PM.",
    )


class WeeklyHoursForm(forms.Form):
    """One working range; an empty row is ignored."""

    weekday = forms.TypedChoiceField(
        choices=WeeklyHours.Weekday.choices, coerce=int, required=False
    )
    start = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="00:00 means midnight.",
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start is None and end is None:
            return data
        if start is None or end is None or data.get("weekday") in (None, ""):
            raise forms.ValidationError("Give the day, a start and an end.")
        if not (start < end or end == time(0)):
            raise forms.ValidationError("The range must end after it starts.")
        return data

    @property
    def range(self) -> tuple[int, time, time] | None:
        data = self.cleaned_data
        if data.get("start") is None:
            return None
        return data["weekday"], data["start"], data["end"]


WeeklyHoursFormSet = forms.formset_factory(WeeklyHoursForm, extra=3)


class ExceptionForm(forms.Form):
    kind = forms.ChoiceField(choices=AvailabilityException.Kind.choices)
    start = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Your local time.",
    )
    end = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    note = forms.CharField(max_length=200, required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            return data
        # Wall-clock times in the dermatologist's zone: drop what the form attached.
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
        if end <= start:
            raise forms.ValidationError("The end must be after the start.")
        next_midnight = datetime.combine(start.date() + timedelta(days=1), time(0))
        if data.get("kind") == AvailabilityException.Kind.EXTRA and end > next_midnight:
            raise forms.ValidationError("Extra hours must lie within one day.")
        data["start"], data["end"] = start, end
        return data
