"""Signed, expiring, single-use tokens for e-mail verification and password reset.

A token is a Django ``TimestampSigner`` signature over ``{"u": user id, "e": address,
"s": state}``. ``state`` is an HMAC of the account fields the token's use changes
(password hash for a reset; address, pending address and verification time for a
verification), so once used the state differs and the token answers ``token_used``.
Nothing is stored server-side.

A token is also never stored in a notification or delivery: ``recipe`` gives what
re-makes the identical token (purpose, address, state, issue second), which is no
secret without SECRET_KEY, and ``secret_context`` (the notification kinds' code
provider) re-makes the token and its link only while the e-mail is being sent.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts import errors
from accounts.models import User
from notifications.kinds import SecretExpired

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
    return remake_token(recipe(purpose, user, email=email, issued_at=issued_at), user)


def recipe(
    purpose: str,
    user: User,
    *,
    email: str = "",
    issued_at: datetime | None = None,
) -> dict:
    """What re-makes the same token later; storable, as it is no secret by itself."""
    issued_at = issued_at or timezone.now()
    return {
        "purpose": purpose,
        "email": email,
        "state": _state(purpose, user, email),
        "issued_at": int(issued_at.timestamp()),
    }


def remake_token(recipe: dict, user: User) -> str:
    """The token a recipe describes: the same string each time."""
    payload = {"u": str(user.pk), "e": recipe["email"], "s": recipe["state"]}
    issued_at = datetime.fromtimestamp(recipe["issued_at"], tz=UTC)
    return _signer(recipe["purpose"], issued_at).sign_object(payload, compress=True)


def link(purpose: str, token: str) -> str:
    """The app link that carries the token, if a URL template is configured."""
    template = {
        VERIFY_EMAIL: settings.ACCOUNT_EMAIL_VERIFY_URL,
        PASSWORD_RESET: settings.ACCOUNT_PASSWORD_RESET_URL,
    }[purpose]
    return template.format(token=token) if template else ""


def secret_context(*, user: User, context: dict) -> dict:
    """Code provider of the verification and reset kinds: the code, at send time.

    Raises SecretExpired when the code's lifetime (counted from issue) is over, so a
    late retry or a staff resend never mails a dead code.
    """
    recipe = context["secret"]
    issued_at = datetime.fromtimestamp(recipe["issued_at"], tz=UTC)
    if issued_at + lifetime(recipe["purpose"]) <= timezone.now():
        raise SecretExpired("the one-time code expired before it could be sent")
    token = remake_token(recipe, user)
    return {"token": token, "link": link(recipe["purpose"], token)}


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
