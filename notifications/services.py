"""notify() is the one way any app tells a user something; delivery lives here too."""

import copy
import json
import logging
import random
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string

from notifications import selectors
from notifications.errors import QuietHoursIncomplete, UnknownKind
from notifications.kinds import CHANNELS, KINDS, Kind, get_kind
from notifications.models import Delivery, Notification, Preference
from notifications.quiet_hours import quiet_until
from push import selectors as push_selectors
from push import services as push_services
from push.senders import PushMessage
from skincare.tasks import enqueue, enqueue_on_commit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: str
    mimetype: str


def _unread_key(user_id) -> str:
    return f"notifications:unread:{user_id}"


def _forget_unread_count(user_id) -> None:
    # Deleted now and again after commit, so a read racing the transaction cannot
    # leave a stale count cached.
    cache.delete(_unread_key(user_id))
    transaction.on_commit(lambda: cache.delete(_unread_key(user_id)))


def _render(kind: str, user, context: dict) -> tuple[str, str, str]:
    full_context = {"user": user, **context}
    with timezone.override(user.zoneinfo), translation.override(user.language or "en"):
        subject = render_to_string(f"notifications/{kind}.subject.txt", full_context)
        text = render_to_string(f"notifications/{kind}.txt", full_context)
        html = render_to_string(f"notifications/{kind}.html", full_context)
    return " ".join(subject.split()), text.strip(), html


def _json_safe(context: dict) -> dict:
    return json.loads(json.dumps(context, cls=DjangoJSONEncoder, default=str))


def _revive(data: dict) -> dict:
    """A stored context made renderable again: ISO date-times become datetimes."""
    revived = {}
    for key, value in data.items():
        try:
            moment = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:  # shaped like a date-time but not one
            moment = None
        revived[key] = moment if moment is not None and moment.tzinfo else value
    return revived


@transaction.atomic
def notify(
    *,
    user,
    kind: str,
    context: dict | None = None,
    idempotency_key: str | None = None,
    attachments: list[Attachment] | None = None,
    about: Iterable = (),
) -> Notification | None:
    """Record a notification and its deliveries; e-mail and pushes go out after commit.

    Call it inside the transaction of the event that causes it. The same
    idempotency key twice gives one notification, one e-mail and one push per
    device (each device its own delivery, so one failing holds no other). Returns
    None when the user's preferences turn every channel of this kind off. ``about``
    lists the other people whose personal data the context holds; erasing one of
    them rewrites the message with the kind's ``erased`` values. A kind with a
    ``code_provider`` is stored without its code: the provider adds it only to the
    copy sent.
    """
    spec = get_kind(kind)
    context = context or {}
    if idempotency_key is not None:
        existing = Notification.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    # Security mail ignores preferences: no need to read them.
    preference = (
        Preference(user=user) if spec.security else selectors.preference_for(user=user)
    )
    in_app, email, push = _channels_on(spec, preference, user)
    devices = _push_devices(user) if push else []
    if not in_app and not email and not devices:
        return None
    subject, text, html = _render(kind, user, context)
    notification = Notification.objects.create(
        recipient=user,
        kind=kind,
        title=subject,
        body=text,
        data=_json_safe(context),
        in_app=in_app,
        idempotency_key=idempotency_key,
    )
    mentioned = [person for person in about if person and person.pk != user.pk]
    if mentioned:
        notification.about.add(*mentioned)
    if in_app:
        _forget_unread_count(user.pk)
    # Security messages are not held by quiet hours (the preference is then unsaved).
    not_before = _quiet_until(preference, user) if (email or devices) else None
    if email:
        _queue_email(
            notification,
            to_address=user.email,
            rendered=(subject, text, html),
            attachments=attachments or [],
            not_before=not_before,
        )
    if devices:
        _queue_pushes(notification, spec, devices, context, not_before=not_before)
    return notification


def _channels_on(spec: Kind, preference: Preference, user) -> tuple[bool, bool, bool]:
    """(in-app, e-mail, push): the kind's channels the user has not switched off.

    Security mail ignores preferences; e-mail needs an address.
    """

    def allowed(channel: str) -> bool:
        return spec.security or preference.allows(spec.key, channel)

    in_app = spec.in_app and allowed("in_app")
    email = spec.email and allowed("email") and bool(user.email)
    push = spec.push and allowed("push")
    return in_app, email, push


def _push_devices(user) -> list:
    """The user's active devices on a platform whose push channel is open."""
    return [
        device
        for device in push_selectors.active_devices_of(user=user)
        if push_services.channel_open(device.platform)
    ]


def _quiet_until(preference: Preference, user):
    """When the user's quiet hours holding now end, or None outside them."""
    if preference.quiet_hours_start is None:
        return None
    return quiet_until(
        timezone.now(),
        user.zoneinfo,
        preference.quiet_hours_start,
        preference.quiet_hours_end,
    )


def _queue_email(
    notification: Notification,
    *,
    to_address: str,
    rendered: tuple[str, str, str],
    attachments: list[Attachment],
    not_before,
) -> Delivery:
    """Record the e-mail; it is sent after commit, or by dispatch after not_before."""
    from notifications.tasks import send_delivery_task

    subject, text, html = rendered
    delivery = Delivery.objects.create(
        notification=notification,
        channel=Delivery.Channel.EMAIL,
        to_address=to_address,
        subject=subject,
        body_text=text,
        body_html=html,
        attachments=[a.__dict__ for a in attachments],
        not_before=not_before,
        enqueued_at=None if not_before else timezone.now(),
    )
    if not_before is None:
        enqueue_on_commit(send_delivery_task, str(delivery.pk))
    return delivery


ROUTINE_PERIODS = {"am": "morning", "pm": "evening", "weekly": "weekly"}


def push_text(spec: Kind, context: dict) -> tuple[str, str]:
    """The lock-screen title and body: the kind's fixed words, never the context's.

    Only ``{period}`` is filled in (a routine's morning/evening), from a closed list.
    """
    period = ROUTINE_PERIODS.get(str(context.get("period", "")), "skincare")
    return spec.push_title.format(period=period), spec.push_body


def push_collapse_key(spec: Kind, context: dict) -> str:
    """One key per thing a message is about: a re-sent reminder replaces the old."""
    subject = context.get(spec.push_collapse) if spec.push_collapse else None
    if not subject:
        return ""
    return f"{spec.push_collapse.removesuffix('_id')}:{subject}"


def _queue_pushes(
    notification: Notification, spec: Kind, devices, context: dict, *, not_before
) -> None:
    """One delivery per device, sent after commit or by dispatch after not_before."""
    from notifications.tasks import send_delivery_task

    title, body = push_text(spec, context)
    collapse_key = push_collapse_key(spec, context)
    expires_at = timezone.now() + timedelta(seconds=spec.push_ttl)
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                notification=notification,
                channel=Delivery.Channel.PUSH,
                device=device,
                to_address=f"{device.platform}:{device.pk}",
                subject=title,
                body_text=body,
                collapse_key=collapse_key,
                expires_at=expires_at,
                not_before=not_before,
                enqueued_at=None if not_before else timezone.now(),
            )
            for device in devices
        ]
    )
    if not_before is None:
        for delivery in deliveries:
            enqueue_on_commit(send_delivery_task, str(delivery.pk))


# ------------------------------------------------------------------------------
# Feed
# ------------------------------------------------------------------------------
def unread_count(*, user) -> int:
    """The badge number, cached; a cache outage falls back to the database."""
    key = _unread_key(user.pk)
    try:
        cached = cache.get(key)
    except Exception:
        logger.warning("cache unavailable for unread count; using the database")
        cached = None
    if cached is not None:
        return int(cached)
    count = Notification.objects.filter(
        recipient=user, in_app=True, read_at__isnull=True
    ).count()
    try:
        cache.set(key, count, settings.NOTIFICATION_UNREAD_CACHE_SECONDS)
    except Exception:
        logger.warning("cache unavailable; unread count not cached")
    return count


@transaction.atomic
def mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        _forget_unread_count(notification.recipient_id)
    return notification


@transaction.atomic
def mark_all_read(*, user) -> int:
    updated = Notification.objects.filter(
        recipient=user, in_app=True, read_at__isnull=True
    ).update(read_at=timezone.now())
    _forget_unread_count(user.pk)
    return updated


@transaction.atomic
def update_preferences(
    *, user, channels: dict | None = None, quiet_hours: dict | None = None
) -> Preference:
    """Switch channels per kind and set or clear quiet hours; the one write.

    ``channels`` maps kinds to {channel: bool} (kinds and channels left out stay as
    they are); ``quiet_hours`` is {"start": time, "end": time}, both or neither.
    """
    unknown = sorted(set(channels or {}) - set(KINDS))
    if unknown:
        raise UnknownKind(unknown[0])
    start, end = (quiet_hours or {}).get("start"), (quiet_hours or {}).get("end")
    if (start is None) != (end is None):
        raise QuietHoursIncomplete()
    preference, _ = Preference.objects.select_for_update().get_or_create(user=user)
    fields = []
    if channels is not None:
        merged = {kind: dict(value) for kind, value in preference.channels.items()}
        for kind, per_channel in channels.items():
            if per_channel is None:
                continue
            merged.setdefault(kind, {}).update(
                {c: bool(v) for c, v in per_channel.items() if c in CHANNELS}
            )
        preference.channels = merged
        fields.append("channels")
    if quiet_hours is not None:
        preference.quiet_hours_start, preference.quiet_hours_end = start, end
        fields += ["quiet_hours_start", "quiet_hours_end"]
    if fields:
        preference.save(update_fields=[*fields, "updated_at"])
    return preference


# ------------------------------------------------------------------------------
# Delivery
# ------------------------------------------------------------------------------
class SendOutcome:
    SENT = "sent"
    SKIPPED = "skipped"
    RETRY = "retry"
    FAILED = "failed"
    DROPPED = "dropped"


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    return isinstance(exc, OSError | smtplib.SMTPException)


def retry_delay(attempts: int) -> int:
    """Exponential backoff with full jitter, in seconds."""
    base = settings.NOTIFICATION_RETRY_BASE_SECONDS
    return random.randint(1, base * 2 ** max(attempts - 1, 0))  # noqa: S311


def _claim(delivery_id) -> Delivery | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notification__recipient", "device")
            .filter(pk=delivery_id, status=Delivery.Status.PENDING)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .first()
        )
        if delivery is None:
            return None
        delivery.status = Delivery.Status.SENDING
        delivery.attempts = F("attempts") + 1
        delivery.claimed_at = now
        delivery.save(update_fields=["status", "attempts", "claimed_at"])
    delivery.refresh_from_db(fields=["attempts"])
    return delivery


def _with_secret(delivery: Delivery, provider: str) -> tuple[str, str, str]:
    """Subject and bodies with the one-time code: rendered for SMTP, never stored."""
    notification = delivery.notification
    user = notification.recipient
    if delivery.to_address != user.email:  # a verification of a pending address
        user = copy.copy(user)
        user.email = delivery.to_address
    context = _revive(notification.data)
    context |= import_string(provider)(user=user, context=context)
    return _render(notification.kind, user, context)


def _message(delivery: Delivery) -> EmailMultiAlternatives:
    subject, text, html = delivery.subject, delivery.body_text, delivery.body_html
    provider = get_kind(delivery.notification.kind).code_provider
    if provider:
        subject, text, html = _with_secret(delivery, provider)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[delivery.to_address],
        headers={"Message-ID": delivery.message_id},
    )
    if html:
        message.attach_alternative(html, "text/html")
    for attachment in delivery.attachments:
        message.attach(
            attachment["filename"], attachment["content"], attachment["mimetype"]
        )
    return message


@dataclass(frozen=True)
class _Attempt:
    """What one attempt at a delivery came to, before it is recorded."""

    outcome: str  # SendOutcome.SENT, RETRY, FAILED, or DROPPED
    error: str = ""
    retry_after: int | None = None


def max_attempts(channel: str) -> int:
    if channel == Delivery.Channel.PUSH:
        return settings.PUSH_MAX_ATTEMPTS
    return settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS


def _attempt_email(delivery: Delivery) -> _Attempt:
    try:
        _message(delivery).send()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        outcome = SendOutcome.RETRY if _is_transient(exc) else SendOutcome.FAILED
        return _Attempt(outcome, error)
    return _Attempt(SendOutcome.SENT)


def _push_message(delivery: Delivery) -> PushMessage:
    notification = delivery.notification
    return PushMessage(
        title=delivery.subject,
        body=delivery.body_text,
        # Identifiers only: the app opens the notification through the API.
        data={"notification_id": str(notification.pk), "kind": notification.kind},
        collapse_key=delivery.collapse_key,
        expires_at=delivery.expires_at,
        message_id=str(delivery.pk),
    )


def _push_undeliverable(delivery: Delivery) -> str:
    """Why this push must not go out now, or "" if it may."""
    device = delivery.device
    notification = delivery.notification
    if device is None:
        return "device removed"
    if device.user_id != notification.recipient_id:
        # The phone changed hands: the previous owner's message stays with them.
        return "device now belongs to another account"
    if not device.is_active:
        # A security message made while the device was signed in still tells that
        # phone (e.g. "your password was changed" reaches the owner's old session).
        security = get_kind(notification.kind).security
        if not (security and device.deactivated_at >= delivery.created_at):
            return f"device deactivated ({device.deactivation_reason})"
    if delivery.expires_at is not None and delivery.expires_at <= timezone.now():
        return "expired before it could be sent (time-to-live)"
    if not push_services.channel_open(device.platform):
        return f"push to {device.platform} is not configured"
    return ""


def _attempt_push(delivery: Delivery) -> _Attempt:
    reason = _push_undeliverable(delivery)
    if reason:
        return _Attempt(SendOutcome.DROPPED, reason)
    outcome = push_services.send(
        device=delivery.device, message=_push_message(delivery)
    )
    return _Attempt(
        {
            push_services.PushStatus.SENT: SendOutcome.SENT,
            push_services.PushStatus.RETRY: SendOutcome.RETRY,
            push_services.PushStatus.FAILED: SendOutcome.FAILED,
            push_services.PushStatus.GONE: SendOutcome.DROPPED,
        }[outcome.status],
        outcome.error,
        outcome.retry_after,
    )


def send_delivery(*, delivery_id) -> tuple[str, int | None]:
    """Claim a pending delivery, send it and record the result: (outcome, delay)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return SendOutcome.SKIPPED, None
    if delivery.channel == Delivery.Channel.PUSH:
        attempt = _attempt_push(delivery)
    else:
        attempt = _attempt_email(delivery)
    return _record_attempt(delivery, attempt)


def _record_attempt(delivery: Delivery, attempt: _Attempt) -> tuple[str, int | None]:
    error = attempt.error[:2000]
    # Final states are written whatever happened meanwhile (a re-drive that took the
    # row for lost must not send it again); a retry only from "sending".
    row = Delivery.objects.filter(pk=delivery.pk)
    sending = row.filter(status=Delivery.Status.SENDING)
    if attempt.outcome == SendOutcome.SENT:
        row.update(status=Delivery.Status.SENT, sent_at=timezone.now(), last_error="")
        return SendOutcome.SENT, None
    if attempt.outcome == SendOutcome.DROPPED:
        row.update(status=Delivery.Status.DROPPED, last_error=error)
        logger.info("delivery %s dropped: %s", delivery.pk, error)
        return SendOutcome.DROPPED, None
    if attempt.outcome == SendOutcome.RETRY and delivery.attempts < max_attempts(
        delivery.channel
    ):
        # The service's Retry-After when it gave one, else backoff with jitter.
        delay = attempt.retry_after or retry_delay(delivery.attempts)
        sending.update(
            status=Delivery.Status.PENDING,
            last_error=error,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            enqueued_at=timezone.now(),
        )
        logger.warning(
            "delivery %s failed (attempt %s), retrying in %ss: %s",
            delivery.pk,
            delivery.attempts,
            delay,
            error,
        )
        return SendOutcome.RETRY, delay
    row.update(status=Delivery.Status.FAILED, last_error=error)
    logger.error("delivery %s failed for good: %s", delivery.pk, error)
    return SendOutcome.FAILED, None


@dataclass
class DispatchSummary:
    requeued: int = 0
    recovered: int = 0
    given_up: int = 0


def dispatch_pending_deliveries(*, dry_run: bool = False) -> DispatchSummary:
    """Re-enqueue deliveries a dead worker or broker left behind; safe to run often."""
    from notifications.tasks import send_delivery_task

    now = timezone.now()
    summary = DispatchSummary()
    stuck_before = now - timedelta(
        seconds=settings.NOTIFICATION_SENDING_TIMEOUT_SECONDS
    )
    stuck = Delivery.objects.filter(
        status=Delivery.Status.SENDING, claimed_at__lt=stuck_before
    )
    for delivery in stuck.only("pk", "attempts", "channel"):
        if dry_run:
            summary.recovered += 1
            continue
        if delivery.attempts >= max_attempts(delivery.channel):
            summary.given_up += Delivery.objects.filter(
                pk=delivery.pk, status=Delivery.Status.SENDING
            ).update(
                status=Delivery.Status.FAILED,
                last_error="worker lost while sending; marked for resend",
            )
        else:
            summary.recovered += Delivery.objects.filter(
                pk=delivery.pk,
                status=Delivery.Status.SENDING,
                claimed_at__lt=stuck_before,
            ).update(status=Delivery.Status.PENDING, enqueued_at=None)
    requeue_before = now - timedelta(
        seconds=settings.NOTIFICATION_REQUEUE_AFTER_SECONDS
    )
    due = (
        Delivery.objects.filter(status=Delivery.Status.PENDING)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_before))
    )
    for delivery_id in due.values_list("pk", flat=True).iterator():
        if dry_run:
            summary.requeued += 1
            continue
        if enqueue(send_delivery_task, str(delivery_id)):
            Delivery.objects.filter(pk=delivery_id).update(enqueued_at=timezone.now())
            summary.requeued += 1
    return summary


@transaction.atomic
def resend_deliveries(*, delivery_ids) -> int:
    """Put failed deliveries back in the queue (admin action)."""
    from notifications.tasks import send_delivery_task

    ids = list(
        Delivery.objects.filter(
            pk__in=delivery_ids, status=Delivery.Status.FAILED
        ).values_list("pk", flat=True)
    )
    Delivery.objects.filter(pk__in=ids).update(
        status=Delivery.Status.PENDING,
        attempts=0,
        next_attempt_at=None,
        enqueued_at=timezone.now(),
    )
    for delivery_id in ids:
        enqueue_on_commit(send_delivery_task, str(delivery_id))
    return len(ids)


# ------------------------------------------------------------------------------
# Data export and erasure (registry in accounts/lifecycle.py)
# ------------------------------------------------------------------------------
def export_user_data(*, user) -> dict:
    """The user's notifications, deliveries and preferences.

    Security mail (verification, reset) is exported without its body and data:
    they hold tokens that may still work.
    """
    from accounts.lifecycle import export_rows
    from notifications.kinds import KINDS

    security = [key for key, spec in KINDS.items() if spec.security]
    notifications = export_rows(Notification.objects.filter(recipient=user))
    for row in notifications:
        if row["kind"] in security:
            row["body"] = ""
            row["data"] = {}
    deliveries = export_rows(
        Delivery.objects.filter(notification__recipient=user),
        exclude=("body_text", "body_html", "attachments"),
    )
    return {
        "notifications.Notification": notifications,
        "notifications.Delivery": deliveries,
        "notifications.Preference": export_rows(Preference.objects.filter(user=user)),
    }


FORGOTTEN = "[Removed: it named someone whose account has been erased.]"


def _forget_person(notification: Notification, person) -> None:
    """Rewrite a message about an erased person with the kind's ``erased`` values."""
    spec = get_kind(notification.kind)
    if spec.erased:
        data = {**notification.data, **spec.erased}
        title, body, html = _render(
            notification.kind, notification.recipient, _revive(data)
        )
    else:
        data, title, body, html = {}, FORGOTTEN, FORGOTTEN, ""
    notification.title, notification.body, notification.data = title, body, data
    notification.save(update_fields=["title", "body", "data"])
    # Pushes carry only the kind's fixed words: nothing of the person to rewrite.
    notification.deliveries.filter(channel=Delivery.Channel.EMAIL).update(
        subject=title, body_text=body, body_html=html, attachments=[]
    )
    notification.about.remove(person)


def erase_user_data(*, user) -> None:
    """Delete the user's notifications (deliveries cascade) and preferences.

    Other people's notifications about the user (a dermatologist's booking
    messages, their e-mails and attachments) are rewritten without the user's data.
    """
    Notification.objects.filter(recipient=user).delete()
    about = Notification.objects.filter(about=user).select_related("recipient")
    for notification in about:
        _forget_person(notification, user)
        _forget_unread_count(notification.recipient_id)
    Preference.objects.filter(user=user).delete()
    _forget_unread_count(user.pk)
