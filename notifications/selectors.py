from notifications.models import Notification


def feed_for(*, user):
    """The user's in-app notifications, newest first."""
    return Notification.objects.filter(recipient=user, in_app=True).order_by(
        "-created_at", "-id"
    )
