import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Device(models.Model):
    """A phone's push token, registered by the signed-in app on it."""

    class Platform(models.TextChoices):
        IOS = "ios", "iOS (APNs)"
        ANDROID = "android", "Android (FCM)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices"
    )
    platform = models.CharField(max_length=8, choices=Platform.choices)
    # FCM registration tokens run to ~200 characters, APNs device tokens are hex
    # (64 today, up to 200 allowed); the token is unique: a phone changing hands moves.
    token = models.CharField(max_length=512)
    app_version = models.CharField(max_length=32, blank=True)
    locale = models.CharField(max_length=35, blank=True)
    # The refresh token family (accounts/refresh.py) of the session that registered
    # it: signing that session out deactivates the device.
    session_family = models.UUIDField(null=True, blank=True, db_index=True)
    is_active = models.BooleanField(default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivation_reason = models.CharField(max_length=200, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["token"], name="push_device_token_unique"),
            models.CheckConstraint(
                condition=Q(is_active=True, deactivated_at__isnull=True)
                | Q(is_active=False, deactivated_at__isnull=False),
                name="push_device_deactivated_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["user"],
                name="push_device_active_idx",
                condition=Q(is_active=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} device of {self.user_id}"
