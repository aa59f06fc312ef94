import django_filters

from notifications.models import Notification
from skincare.filters import StrictBooleanFilter, UpdatedSinceFilter


class FeedFilter(django_filters.FilterSet):
    unread = StrictBooleanFilter(
        field_name="read_at", lookup_expr="isnull", label="Only unread (true) or read."
    )
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Notification
        fields = ["unread", "updated_since"]
