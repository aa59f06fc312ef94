from rest_framework import serializers

from notifications.kinds import CHANNELS, KINDS
from notifications.models import Notification
from skincare import serializers as api_serializers


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


class QuietHoursSerializer(api_serializers.Serializer):
    start = serializers.TimeField(allow_null=True)
    end = serializers.TimeField(allow_null=True)

    def validate(self, attrs):
        if (attrs.get("start") is None) != (attrs.get("end") is None):
            raise serializers.ValidationError(
                "Give both start and end, or neither.", code="quiet_hours_incomplete"
            )
        return attrs


class PreferencesSerializer(api_serializers.Serializer):
    """Per kind and channel on/off, and quiet hours in the user's own time zone."""

    channels = serializers.DictField(child=ChannelSwitchesSerializer(), required=False)
    quiet_hours = QuietHoursSerializer(required=False)
    timezone = serializers.CharField(read_only=True)

    def validate_channels(self, value):
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown kinds: {', '.join(unknown)}", code="unknown_kind"
            )
        return value

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
