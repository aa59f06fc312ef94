from rest_framework import serializers

from push.models import Device
from skincare import serializers as api_serializers


class DeviceIn(api_serializers.Serializer):
    platform = serializers.ChoiceField(choices=Device.Platform.choices)
    token = serializers.CharField(
        max_length=512,
        help_text="The APNs device token (hex) or FCM registration token.",
    )
    app_version = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default=""
    )
    locale = serializers.CharField(
        max_length=35,
        required=False,
        allow_blank=True,
        default="",
        help_text="BCP 47, e.g. `fr-FR`.",
    )


class DeviceOut(api_serializers.Serializer):
    """A registered device; its token is not echoed."""

    id = serializers.UUIDField()
    platform = serializers.ChoiceField(choices=Device.Platform.choices)
    app_version = serializers.CharField()
    locale = serializers.CharField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
