from push.models import Device


def devices_of(*, user):
    """The user's devices, active or not, newest first."""
    return Device.objects.filter(user=user)


def active_devices_of(*, user):
    """The devices a push to the user goes to."""
    return Device.objects.filter(user=user, is_active=True).order_by("created_at")


def device_of(*, user, device_id) -> Device | None:
    """One of the user's devices, or None (another user's answers the same)."""
    return Device.objects.filter(user=user, pk=device_id).first()
