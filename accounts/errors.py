"""Domain errors of accounts; each carries the stable code the API answers with."""

from skincare.errors import DomainError


class AccountError(DomainError):
    """Base of the errors services raise; views turn them into API errors."""

    code = "account_error"
    message = "The account operation failed."
    # Errors about no one field answer as the form as a whole, like DRF's own.
    field = "non_field_errors"


class InvalidToken(AccountError):
    code = "invalid_token"
    message = "This link or code is not valid."
    field = "token"


class TokenExpired(AccountError):
    code = "token_expired"
    message = "This link or code has expired; ask for a new one."
    field = "token"


class TokenUsed(AccountError):
    code = "token_used"
    message = "This link or code has already been used."
    field = "token"


class PasswordRejected(AccountError):
    """A new password that breaks Django's password validators, one message each."""

    code = "invalid"
    message = "This password is not allowed."

    def __init__(self, messages: list[str], *, field: str):
        super().__init__(" ".join(messages), field=field)
        self.messages = list(messages)


class WrongPassword(AccountError):
    code = "wrong_password"
    message = "The password is not correct."
    field = "password"


class EmailTaken(AccountError):
    code = "email_taken"
    message = "An account with this e-mail address already exists."
    field = "email"


class EmailUnchanged(AccountError):
    code = "email_unchanged"
    message = "This is already the e-mail address of the account."
    field = "new_email"


class AlreadyVerified(AccountError):
    code = "already_verified"
    message = "The e-mail address is already verified."


class RestoreWindowClosed(AccountError):
    code = "restore_window_closed"
    message = "The account is not deleted, or its retention period is over."


class InvalidCredentials(AccountError):
    """Unknown address, wrong password, or an account this way in does not admit.

    Answered like simplejwt answers bad credentials: 401 ``no_active_account``.
    """

    status = 401
    code = "no_active_account"
    message = "No active account found with the given credentials"
    field = None


class RateLimited(AccountError):
    """Refused before the password is looked at; try again in retry_after seconds."""

    status = 429
    code = "throttled"
    message = "Too many attempts; try again later."

    def __init__(self, wait_seconds: float):
        super().__init__(retry_after=wait_seconds)


class SignInThrottled(RateLimited):
    """Too many password attempts from this IP or on this account."""


class AccountLocked(RateLimited):
    code = "account_locked"
    message = "Too many failed sign-ins; the account is locked for a while."
