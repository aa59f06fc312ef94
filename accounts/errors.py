"""Domain errors of accounts; each carries the stable code the API answers with."""

from skincare.errors import DomainError


class AccountError(DomainError):
    """Base of the errors services raise; views turn them into API errors."""

    code = "account_error"
    message = "The account operation failed."


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


class AccountLocked(AccountError):
    code = "account_locked"
    message = "Too many failed sign-ins; the account is locked for a while."

    def __init__(self, wait_seconds: int):
        super().__init__()
        self.wait_seconds = max(int(wait_seconds), 1)
