from notifications.models import Notification, Preference


def feed_for(*, user):
    """The user's in-app notifications, newest first."""
    return Notification.objects.filter(recipient=user, in_app=True).order_by(
        "-created_at", "-id"
    )


def preference_for(*, user) -> Preference:
    """The user's preferences, or unsaved defaults: reading writes nothing."""
    return Preference.objects.filter(user=user).first() or Preference(user=user)
