import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import selectors, services
from notifications.models import Notification
from notifications.serializers import (
    MarkedReadSerializer,
    NotificationSerializer,
    PreferencesSerializer,
    UnreadCountSerializer,
)
from skincare.api import UUID_LOOKUP_REGEX, StrictBooleanFilter


class FeedFilter(django_filters.FilterSet):
    unread = StrictBooleanFilter(
        field_name="read_at", lookup_expr="isnull", label="Only unread (true) or read."
    )

    class Meta:
        model = Notification
        fields = ["unread"]


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


class PreferencesView(APIView):
    """Per kind and channel on/off, and quiet hours (e-mail held until they end)."""

    @extend_schema(responses=PreferencesSerializer)
    def get(self, request):
        preference = services.get_preference(request.user)
        return Response(PreferencesSerializer.represent(preference, request.user))

    @extend_schema(request=PreferencesSerializer, responses=PreferencesSerializer)
    def patch(self, request):
        serializer = PreferencesSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        preference = services.update_preferences(
            user=request.user, **serializer.validated_data
        )
        return Response(PreferencesSerializer.represent(preference, request.user))
