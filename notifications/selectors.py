from notifications.models import Notification


def feed_for(*, user, unread_only: bool = False):
    """The user's in-app notifications, newest first."""
    queryset = Notification.objects.filter(recipient=user, in_app=True)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-created_at", "-id")
