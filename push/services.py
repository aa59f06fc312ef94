"""Devices and sending to them: register, remove, deactivate, send, readiness.

The outbox (notifications.services) decides what to push and when; this module knows
the devices and how to reach them (push/senders.py).
"""

import logging
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from push import senders
from push.errors import InvalidPushToken
from push.models import Device

logger = logging.getLogger(__name__)

TOKEN_PATTERNS = {
    # APNs device tokens: 32 bytes as hex today; Apple says not to rely on the size.
    Device.Platform.IOS: re.compile(r"[0-9a-fA-F]{64,200}"),
    # FCM registration tokens: base64url-like with a colon, ~150-250 characters.
    Device.Platform.ANDROID: re.compile(r"[A-Za-z0-9_:\-]{32,512}"),
}
SERVICE_OF = {Device.Platform.IOS: "apns", Device.Platform.ANDROID: "fcm"}


# ------------------------------------------------------------------------------
# Devices
# ------------------------------------------------------------------------------
@transaction.atomic
def register_device(
    *,
    user,
    platform: str,
    token: str,
    app_version: str = "",
    locale: str = "",
    session_family: uuid.UUID | None = None,
) -> tuple[Device, bool]:
    """Record the phone's push token for the user: (device, created).

    A token already known moves to this user and is active again (a phone changes
    hands, or signs in again after signing out); pushes queued for its previous
    owner are then dropped, never shown to the new one (notifications.services).
    """
    if not TOKEN_PATTERNS[platform].fullmatch(token):
        raise InvalidPushToken()
    fields = {
        "user": user,
        "platform": platform,
        "app_version": app_version,
        "locale": locale,
        "session_family": session_family,
        "is_active": True,
        "deactivated_at": None,
        "deactivation_reason": "",
    }
    device = Device.objects.select_for_update().filter(token=token).first()
    if device is None:
        try:
            with transaction.atomic():
                return Device.objects.create(token=token, **fields), True
        except IntegrityError:  # registered concurrently: take that row
            device = Device.objects.select_for_update().get(token=token)
    if device.user_id != user.pk:
        logger.info("push device %s moved to user %s", device.pk, user.pk)
    for name, value in fields.items():
        setattr(device, name, value)
    device.save(update_fields=[*fields, "updated_at"])
    return device, False


@transaction.atomic
def remove_device(*, device: Device) -> None:
    """Forget the device: the app signed out of pushes on that phone."""
    device.delete()


def deactivate_devices(*, user, reason: str, session_family=None) -> int:
    """Stop pushing to the user's devices (those of one session, if given)."""
    devices = Device.objects.filter(user=user, is_active=True)
    if session_family is not None:
        devices = devices.filter(session_family=session_family)
    return devices.update(
        is_active=False,
        deactivated_at=timezone.now(),
        deactivation_reason=reason[:200],
        updated_at=timezone.now(),
    )


def _device_gone(device: Device, reason: str) -> None:
    """The service says the token is dead: deactivate, so nothing is sent again."""
    now = timezone.now()
    Device.objects.filter(pk=device.pk, token=device.token, is_active=True).update(
        is_active=False,
        deactivated_at=now,
        deactivation_reason=f"{SERVICE_OF[device.platform]}: {reason}"[:200],
        last_failure_at=now,
        last_failure=reason[:500],
        updated_at=now,
    )
    logger.info("push device %s deactivated: %s", device.pk, reason)


def _record_failure(device: Device, error: str) -> None:
    Device.objects.filter(pk=device.pk).update(
        last_failure_at=timezone.now(), last_failure=error[:500]
    )


def _record_success(device: Device) -> None:
    Device.objects.filter(pk=device.pk).update(last_success_at=timezone.now())


# ------------------------------------------------------------------------------
# Senders and the push channel's health
# ------------------------------------------------------------------------------
def is_configured(service: str) -> bool:
    """Whether the service's settings are present (half a setup refuses to start)."""
    if service == "fcm":
        return bool(settings.FCM_SERVICE_ACCOUNT_FILE)
    return bool(settings.APNS_KEY_FILE)


def channel_open(platform: str) -> bool:
    """Whether pushes to this platform are made at all.

    A configured service sends; an unconfigured one writes to the log in development
    (DJANGO_DEBUG=true, the embedded defaults) and is off in production.
    """
    return is_configured(SERVICE_OF[platform]) or settings.DEBUG


_senders: dict[tuple[str, str], object] = {}


def _fingerprint(service: str) -> str:
    """Names the configuration in force, so a recorded failure of an old one is moot."""
    if service == "fcm":
        path = settings.FCM_SERVICE_ACCOUNT_FILE
    else:
        path = settings.APNS_KEY_FILE
    try:
        with open(path, "rb") as key_file:
            raw = key_file.read()
    except OSError:
        raw = b"unreadable:" + path.encode()
    if service == "fcm":
        return senders.fcm_fingerprint(raw)
    return senders.apns_fingerprint(raw)


def sender_for(platform: str):
    """The platform's sender; raises senders.PushConfigError if it cannot be built."""
    service = SERVICE_OF[platform]
    if not is_configured(service):
        return senders.LogSender(service)
    key = (service, _fingerprint(service))
    sender = _senders.get(key)
    if sender is None:
        cls = senders.FcmSender if service == "fcm" else senders.ApnsSender
        sender = _senders[key] = cls.from_settings()
    return sender


def _health_key(service: str) -> str:
    return f"push:config-error:{service}"


def _record_config_error(service: str, error: senders.PushError) -> None:
    try:
        cache.set(
            _health_key(service),
            {"fingerprint": _fingerprint(service), "reason": error.reason},
            24 * 3600,
        )
    except Exception:
        logger.warning("cache unavailable; push configuration error not recorded")


def _clear_config_error(service: str) -> None:
    try:
        cache.delete(_health_key(service))
    except Exception:
        logger.warning("cache unavailable; push health not updated")


class PushChannelFailing(Exception):
    """A configured push service cannot send; the message names the service and why."""


def check_push_channels() -> None:
    """Readiness: each configured service has a usable credential and no refusal.

    FCM proves its key by getting an access token (cached, so about one request an
    hour); APNs by signing a provider token. A credential a service refused while
    sending (recorded by ``send``) reports until a send succeeds or the setting
    changes.
    """
    failing = []
    for platform, service in SERVICE_OF.items():
        if not is_configured(service):
            continue
        try:
            sender_for(platform).check()
        except senders.PushError as exc:
            logger.error("push channel %s is failing: %s", service.upper(), exc)
            failing.append(f"{service} {exc.reason}")
            continue
        try:
            recorded = cache.get(_health_key(service))
        except Exception:
            recorded = None
        if recorded and recorded.get("fingerprint") == _fingerprint(service):
            failing.append(f"{service} {recorded['reason']} while sending")
    if failing:
        # Reason codes only (the log has the details): readiness answers anyone.
        raise PushChannelFailing("push credentials refused: " + ", ".join(failing))


# ------------------------------------------------------------------------------
# Sending
# ------------------------------------------------------------------------------
class PushStatus:
    SENT = "sent"
    RETRY = "retry"  # transient: try again later
    FAILED = "failed"  # this message can never be sent
    GONE = "gone"  # the device is deactivated; nothing more to do


@dataclass(frozen=True)
class PushOutcome:
    status: str
    error: str = ""
    retry_after: int | None = None


def send(*, device: Device, message: senders.PushMessage) -> PushOutcome:
    """Send one message to one device and record what the service said.

    A dead token deactivates the device; a refused credential is logged as an error
    and reported by readiness (the delivery retries, so fixing it delivers).
    """
    service = SERVICE_OF[device.platform]
    try:
        sender_for(device.platform).send(device.token, message)
    except senders.DeviceGone as exc:
        _device_gone(device, exc.reason)
        return PushOutcome(PushStatus.GONE, f"device unregistered: {exc}")
    except senders.PushConfigError as exc:
        error = f"{service} configuration refused: {exc}"
        logger.error(
            "push channel %s is misconfigured (%s); deliveries wait for a fix",
            service.upper(),
            exc,
        )
        _record_config_error(service, exc)
        _record_failure(device, error)
        return PushOutcome(PushStatus.RETRY, error)
    except senders.TransientPushError as exc:
        _record_failure(device, str(exc))
        return PushOutcome(PushStatus.RETRY, f"{service}: {exc}", exc.retry_after)
    except senders.PushRejected as exc:
        _record_failure(device, str(exc))
        return PushOutcome(PushStatus.FAILED, f"{service} rejected the message: {exc}")
    _record_success(device)
    if is_configured(service):
        _clear_config_error(service)
    return PushOutcome(PushStatus.SENT)


# ------------------------------------------------------------------------------
# Data export and erasure (registry in accounts/lifecycle.py)
# ------------------------------------------------------------------------------
def export_user_data(*, user) -> dict:
    """The user's devices, without their push tokens (a way to reach the phone)."""
    from accounts.lifecycle import export_rows

    return {
        "push.Device": export_rows(Device.objects.filter(user=user), exclude=("token",))
    }


def erase_user_data(*, user) -> None:
    Device.objects.filter(user=user).delete()
