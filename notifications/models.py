import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from notifications.kinds import KINDS
from skincare.sync import Synced


class Notification(Synced):
    """Something a user is told, shown in the in-app feed and delivered per channel."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(
        max_length=64, choices=[(k, v.label) for k, v in KINDS.items()]
    )
    title = models.CharField(max_length=255)
    body = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    # People other than the recipient whose personal data the message holds: their
    # erasure rewrites it (see the kind's ``erased`` values).
    about = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+"
    )
    in_app = models.BooleanField(default=True)
    # NULL, not "", so that many notifications without a key fit the unique constraint.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                name="notification_feed_idx",
                condition=Q(in_app=True),
            ),
            models.Index(
                fields=["recipient"],
                name="notification_unread_idx",
                condition=Q(in_app=True, read_at__isnull=True),
            ),
            models.Index(
                fields=["recipient", "updated_at"],
                name="notification_updated_idx",
                condition=Q(in_app=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="notification_idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"


class Delivery(models.Model):
    """One attempt-tracked delivery of a notification over one channel."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        PUSH = "push", "Push"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # Not to be sent: the device is gone or moved, or the push outlived its TTL.
        DROPPED = "dropped", "Dropped"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # Push: one delivery per device of the recipient (push.Device).
    device = models.ForeignKey(
        "push.Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    to_address = models.CharField(max_length=254)
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    # Push: undelivered by then, it is dropped (the kind's TTL); and the collapse key
    # under which a newer push replaces this one on the phone.
    expires_at = models.DateTimeField(null=True, blank=True)
    collapse_key = models.CharField(max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"],
                condition=Q(channel="email"),
                name="delivery_one_email_per_notification",
            ),
            models.UniqueConstraint(
                fields=["notification", "device"],
                condition=Q(channel="push"),
                name="delivery_one_push_per_device",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="delivery_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.status} to {self.to_address}"

    @property
    def message_id(self) -> str:
        """A stable Message-ID, so a re-driven send is recognisable as the same mail."""
        return f"<{self.id}@skincare.notifications>"


class Preference(models.Model):
    """A user's channel choices per kind and quiet hours in their own time zone."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    # {"kind": {"email": false, "in_app": true}}; a kind or channel absent means its
    # default: on, except push for kinds whose push_default is off (kinds.py).
    channels = models.JSONField(default=dict, blank=True)
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    quiet_hours_start__isnull=True, quiet_hours_end__isnull=True
                )
                | Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False),
                name="preference_quiet_hours_both_or_neither",
            )
        ]

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"

    def allows(self, kind: str, channel: str) -> bool:
        default = KINDS[kind].default_on(channel) if kind in KINDS else True
        return bool(self.channels.get(kind, {}).get(channel, default))
