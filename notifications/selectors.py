from django.db.models import Count, Min

from notifications.models import Delivery, Notification, Preference


def feed_for(*, user):
    """The user's in-app notifications, newest first."""
    return Notification.objects.filter(recipient=user, in_app=True).order_by(
        "-created_at", "-id"
    )


def preference_for(*, user) -> Preference:
    """The user's preferences, or unsaved defaults: reading writes nothing."""
    return Preference.objects.filter(user=user).first() or Preference(user=user)


# ------------------------------------------------------------------------------
# Operations (skincare/metrics.py)
# ------------------------------------------------------------------------------
def delivery_count_by_status() -> dict[str, int]:
    """Deliveries (e-mail and push) per status, every status present."""
    counts = dict.fromkeys(Delivery.Status.values, 0)
    counts.update(
        Delivery.objects.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return counts


def oldest_pending_delivery_at():
    """When the oldest pending delivery (e-mail or push) was created, or None."""
    return Delivery.objects.filter(status=Delivery.Status.PENDING).aggregate(
        oldest=Min("created_at")
    )["oldest"]


def notification_count_by_kind(kinds) -> dict[str, int]:
    """Notifications created per kind, for the given kinds."""
    counts = dict.fromkeys(kinds, 0)
    counts.update(
        Notification.objects.order_by()
        .filter(kind__in=list(kinds))
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    return counts
