from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import selectors, services
from notifications.filters import FeedFilter
from notifications.kinds import KINDS
from notifications.models import Notification
from notifications.serializers import (
    MarkedReadSerializer,
    NotificationSerializer,
    PreferencesSerializer,
    UnreadCountSerializer,
    notification_data,
)
from skincare.api import UUID_LOOKUP_REGEX


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The signed-in user's in-app notification feed, newest first."""

    queryset = Notification.objects.none()
    serializer_class = NotificationSerializer
    lookup_value_regex = UUID_LOOKUP_REGEX

    filterset_class = FeedFilter

    def get_queryset(self):
        return selectors.feed_for(user=self.request.user)

    def filter_queryset(self, queryset):
        # Without its parameters the FilterSet changes nothing; building and
        # validating its form is a measurable share of the feed's cost.
        if not {"unread", "updated_since"} & self.request.query_params.keys():
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request, *args, **kwargs):
        """The feed, newest first. Rows are built by ``notification_data`` (the
        serializer's shape without its per-request field setup: bench/api_bench.py)."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([notification_data(n) for n in page])

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one notification read."""
        notification = services.mark_read(notification=self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=MarkedReadSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark every notification read."""
        return Response({"marked": services.mark_all_read(user=request.user)})

    @extend_schema(responses=UnreadCountSerializer)
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        """The number of unread notifications, for the badge."""
        return Response({"unread": services.unread_count(user=request.user)})


def _null_allowed_per_kind(view):
    for key in KINDS:
        view = extend_validation_errors(["null"], field_name=f"channels.{key}")(view)
    return view


# DRF answers `null` on a nested object at the object's own attr, which
# drf-standardized-errors does not infer; quiet_hours_incomplete is the service's
# (notifications.errors.QuietHoursIncomplete).
@_null_allowed_per_kind
@extend_validation_errors(["null", "quiet_hours_incomplete"], field_name="quiet_hours")
@extend_validation_errors(["null"], field_name="channels")
class PreferencesView(APIView):
    """Per kind and channel on/off; quiet hours hold e-mail and push until they end."""

    @extend_schema(responses=PreferencesSerializer)
    def get(self, request):
        preference = selectors.preference_for(user=request.user)
        return Response(PreferencesSerializer.represent(preference, request.user))

    @extend_schema(request=PreferencesSerializer, responses=PreferencesSerializer)
    def patch(self, request):
        serializer = PreferencesSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        preference = services.update_preferences(
            user=request.user, **serializer.validated_data
        )
        return Response(PreferencesSerializer.represent(preference, request.user))
