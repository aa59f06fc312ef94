"""API exceptions of accounts: domain errors become responses with stable codes."""

from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail

from accounts import errors


class AccountLockedError(exceptions.Throttled):
    """429 with Retry-After while an account cools off after failed sign-ins."""

    default_detail = "Too many failed sign-ins; the account is locked for a while."
    default_code = "account_locked"


def to_api_error(exc: errors.AccountError) -> exceptions.APIException:
    """The API error for a domain error: 400 on its field, 429 for a limit or lock."""
    if isinstance(exc, errors.AccountLocked):
        return AccountLockedError(wait=exc.wait_seconds)
    if isinstance(exc, errors.RateLimited):
        return exceptions.Throttled(wait=exc.wait_seconds)
    detail = ErrorDetail(exc.message, code=exc.code)
    if exc.field:
        return exceptions.ValidationError({exc.field: [detail]})
    return exceptions.ValidationError({"non_field_errors": [detail]})
