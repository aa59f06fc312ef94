"""Filters of the dermatologists list (django-filter)."""

import django_filters

from consultations.models import Consultation, ConsultationType, Dermatologist
from skincare.filters import UpdatedSinceFilter


class DermatologistFilter(django_filters.FilterSet):
    specialty = django_filters.CharFilter(
        field_name="specialties__slug", help_text="Specialty slug, e.g. `acne`."
    )
    language = django_filters.CharFilter(
        field_name="languages__code", help_text="Language code, e.g. `fr`."
    )
    consultation_type = django_filters.ChoiceFilter(
        field_name="consultation_types__kind",
        choices=ConsultationType.Kind.choices,
        help_text="Offers this consultation type.",
    )

    class Meta:
        model = Dermatologist
        fields = ["specialty", "language", "consultation_type"]

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset).distinct()


class ConsultationFilter(django_filters.FilterSet):
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Consultation
        fields = ["updated_since"]
