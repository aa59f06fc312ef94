from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
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


@extend_schema(
    parameters=[
        OpenApiParameter(
            "unread", OpenApiTypes.BOOL, description="Only unread notifications."
        )
    ]
)
class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The signed-in user's in-app notification feed, newest first."""

    queryset = Notification.objects.none()
    serializer_class = NotificationSerializer
    lookup_value_regex = "[0-9a-f-]{36}"

    def get_queryset(self):
        unread = self.request.query_params.get("unread", "").lower() in {"1", "true"}
        return selectors.feed_for(user=self.request.user, unread_only=unread)

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
