"""Domain errors of push devices; each carries the stable code the API answers with."""

from skincare.errors import DomainError


class PushError(DomainError):
    """Base of the errors push's services raise."""

    code = "push_error"
    message = "The device operation was refused."
    field = "non_field_errors"


class InvalidPushToken(PushError):
    """A token that is not shaped like the platform's push tokens."""

    code = "invalid_push_token"
    message = (
        "Not a push token of this platform: APNs device tokens are hexadecimal, "
        "FCM registration tokens are letters, digits and -_:."
    )
    field = "token"
