"""Signed, expiring, single-use tokens for e-mail verification and password reset.

A token is a Django ``TimestampSigner`` signature over ``{"u": user id, "e": address,
"s": state}``. ``state`` is an HMAC of the account fields the token's use changes
(password hash for a reset; address, pending address and verification time for a
verification), so once used the state differs and the token answers ``token_used``.
Nothing is stored server-side.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts import errors
from accounts.models import User

VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose name, not a secret


def lifetime(purpose: str) -> timedelta:
    hours = {
        VERIFY_EMAIL: settings.ACCOUNT_EMAIL_VERIFICATION_HOURS,
        PASSWORD_RESET: settings.ACCOUNT_PASSWORD_RESET_HOURS,
    }[purpose]
    return timedelta(hours=hours)


class _Signer(signing.TimestampSigner):
    """A TimestampSigner that can date a token in the past (tests of expiry)."""

    def __init__(self, *, salt: str, issued_at: datetime | None = None):
        super().__init__(salt=salt)
        self.issued_at = issued_at

    def timestamp(self) -> str:
        if self.issued_at is None:
            return super().timestamp()
        return signing.b62_encode(int(self.issued_at.timestamp()))


def _signer(purpose: str, issued_at: datetime | None = None) -> _Signer:
    return _Signer(salt=f"accounts.tokens.{purpose}", issued_at=issued_at)


def _state(purpose: str, user: User, email: str) -> str:
    if purpose == PASSWORD_RESET:
        parts = [user.pk, user.password, user.email, user.is_active]
    else:
        parts = [
            user.pk,
            email,
            user.email,
            user.pending_email,
            user.email_verified_at,
            user.is_active,
        ]
    value = "|".join(str(part) for part in parts)
    return salted_hmac(f"accounts.tokens.{purpose}", value).hexdigest()[:32]


def make_token(
    purpose: str,
    user: User,
    *,
    email: str = "",
    issued_at: datetime | None = None,
) -> str:
    """Sign a token for ``user``; ``email`` is the address a verification is for."""
    payload = {"u": str(user.pk), "e": email, "s": _state(purpose, user, email)}
    return _signer(purpose, issued_at).sign_object(payload, compress=True)


@dataclass(frozen=True)
class TokenUse:
    user: User
    email: str


def check_token(purpose: str, token: str, *, for_update: bool = False) -> TokenUse:
    """Return the user and address a valid token is for, or raise a token error.

    With ``for_update`` (inside a transaction) the user row stays locked, so two
    concurrent uses of one token cannot both succeed.
    """
    try:
        payload = _signer(purpose).unsign_object(
            token, max_age=lifetime(purpose).total_seconds()
        )
    except signing.SignatureExpired:
        raise errors.TokenExpired() from None
    except (signing.BadSignature, ValueError):
        raise errors.InvalidToken() from None
    if not isinstance(payload, dict) or not {"u", "e", "s"} <= payload.keys():
        raise errors.InvalidToken()
    users = User.objects.select_for_update() if for_update else User.objects
    user = users.filter(pk=payload["u"]).first()
    if user is None or not user.is_active or user.is_deleted:
        raise errors.InvalidToken()
    if not constant_time_compare(payload["s"], _state(purpose, user, payload["e"])):
        raise errors.TokenUsed()
    return TokenUse(user=user, email=payload["e"])
