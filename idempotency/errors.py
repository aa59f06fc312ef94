"""Domain errors of idempotent creates; each carries the stable code the API answers."""

from skincare.errors import DomainError


class IdempotencyError(DomainError):
    code = "idempotency_error"


class IdempotencyKeyInvalid(IdempotencyError):
    """The header is empty, too long or not printable ASCII."""

    status = 400
    code = "idempotency_key_invalid"
    message = "Idempotency-Key must be 1 to 255 printable ASCII characters."


class IdempotencyKeyReused(IdempotencyError):
    """The key was already used, within its lifetime, for a different request."""

    status = 422
    code = "idempotency_key_reused"
    message = (
        "This Idempotency-Key was already used for a different request; "
        "use a new key for a new request."
    )


class IdempotencyKeyInProgress(IdempotencyError):
    """Another request with this key is still being answered."""

    status = 409
    code = "idempotency_key_in_progress"
    message = (
        "A request with this Idempotency-Key is still in progress; retry after "
        "Retry-After seconds to get its answer."
    )
