from typing import Any

from django.utils import timezone
from rest_framework import serializers

from notifications.kinds import CHANNELS, KINDS
from notifications.models import Notification
from skincare import serializers as api_serializers
from skincare.api import LocalTimeField


def _datetime(value) -> str | None:
    """As DRF's DateTimeField renders it: current time zone, UTC as ``Z``."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def notification_data(notification: Notification) -> dict[str, Any]:
    """NotificationSerializer's output, built directly (the feed's hot path)."""
    return {
        "id": str(notification.pk),
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "data": notification.data,
        "created_at": _datetime(notification.created_at),
        "read_at": _datetime(notification.read_at),
        "read": notification.read_at is not None,
        "updated_at": _datetime(notification.updated_at),
    }


class NotificationSerializer(api_serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "data",
            "created_at",
            "read_at",
            "read",
            "updated_at",
        ]
        read_only_fields = fields

    def get_read(self, obj) -> bool:
        return obj.read_at is not None


class UnreadCountSerializer(api_serializers.Serializer):
    unread = serializers.IntegerField()


class MarkedReadSerializer(api_serializers.Serializer):
    marked = serializers.IntegerField()


class ChannelSwitchesSerializer(api_serializers.Serializer):
    in_app = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)
    push = serializers.BooleanField(required=False)


class QuietHoursSerializer(api_serializers.Serializer):
    start = LocalTimeField(allow_null=True)
    end = LocalTimeField(allow_null=True)


ChannelsSerializer = type(
    "ChannelsSerializer",
    (api_serializers.Serializer,),
    {
        "__doc__": "On/off per channel for each kind; kinds left out stay as they are.",
        **{key: ChannelSwitchesSerializer(required=False) for key in KINDS},
    },
)


class PreferencesSerializer(api_serializers.Serializer):
    """Per kind and channel on/off, and quiet hours in the user's own time zone."""

    channels = ChannelsSerializer(required=False)
    quiet_hours = QuietHoursSerializer(
        required=False, help_text="Both null switches quiet hours off."
    )
    timezone = serializers.CharField(read_only=True)

    @staticmethod
    def represent(preference, user) -> dict:
        return {
            "channels": {
                key: {
                    channel: (kind.security or preference.allows(key, channel))
                    for channel in CHANNELS
                    if getattr(kind, channel)
                }
                for key, kind in KINDS.items()
            },
            "quiet_hours": {
                "start": preference.quiet_hours_start,
                "end": preference.quiet_hours_end,
            },
            "timezone": user.timezone,
        }
