"""Filters of the analyses list (django-filter)."""

import django_filters

from analysis.models import Analysis
from skincare.filters import UpdatedSinceFilter


class AnalysisFilter(django_filters.FilterSet):
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Analysis
        fields = ["updated_since"]
