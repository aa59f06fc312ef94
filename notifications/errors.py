"""Domain errors of notifications; each carries the stable code the API answers with."""

from skincare.errors import DomainError


class NotificationError(DomainError):
    """Base of the errors notifications' services raise."""

    code = "notification_error"
    message = "The notification operation was refused."
    field = "non_field_errors"


class UnknownKind(NotificationError):
    """A kind missing from notifications.kinds.KINDS."""

    code = "unknown_kind"
    message = "Unknown notification kind."
    field = "channels"

    def __init__(self, kind: str):
        super().__init__(f"Unknown notification kind: {kind}")


class QuietHoursIncomplete(NotificationError):
    code = "quiet_hours_incomplete"
    message = "Give both start and end, or neither."
    field = "quiet_hours"
