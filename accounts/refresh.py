"""Refresh token families: each refresh token is good for one use, and reuse is theft.

Every refresh token carries a ``fam`` claim, set at sign-in and kept across rotations
(access tokens copy it). A refresh exchanges a family's newest token for a successor.
Presenting a token that was already rotated means two parties hold the chain, so the
whole family ends: its refresh tokens are blacklisted, its access tokens are refused
at once (accounts/auth.py) and the user gets a security e-mail. Refresh tokens issued
before families existed use their own jti as the family.
"""

import logging
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.tokens import RefreshToken, Token
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts import errors
from accounts.auth import FAMILY_CLAIM, parse_family
from accounts.models import RefreshTokenRecord, User
from notifications.services import notify
from push import services as push_services

logger = logging.getLogger(__name__)


class RefreshRefused(errors.AccountError):
    """A refresh token that is not (or no longer) good; the API answers 401."""

    status = 401
    code = "token_not_valid"
    message = "Token is invalid or expired"


class RefreshTokenReused(RefreshRefused):
    code = "token_reused"
    message = (
        "This refresh token was already used, so its session has ended on every "
        "device that shared it. Sign in again."
    )


class RefreshAccountInactive(RefreshRefused):
    code = "no_active_account"
    message = "No active account found for the given token."


class FamilyRefreshToken(RefreshToken):
    """simplejwt's refresh token with a family claim, recorded when it is issued."""

    @classmethod
    def for_user(cls, user: User) -> "FamilyRefreshToken":
        """A token that starts a new family: sign-in, password change."""
        # Token.for_user sets the user and revoke claims; the blacklist mixin's
        # for_user would record the token before it has its family claim.
        token = Token.for_user.__func__(cls, user)
        family = uuid.uuid4()
        token[FAMILY_CLAIM] = family.hex
        _record(token, user=user, family=family)
        return token

    @classmethod
    def successor_of(
        cls, presented: RefreshToken, *, user: User, family: uuid.UUID
    ) -> "FamilyRefreshToken":
        """The next token of the family: the presented one's claims, new jti and exp."""
        token = cls()
        for claim, value in presented.payload.items():
            if claim not in cls.no_copy_claims:
                token[claim] = value
        token[FAMILY_CLAIM] = family.hex
        _record(token, user=user, family=family)
        return token


class _PresentedRefreshToken(FamilyRefreshToken):
    """A token as presented: signature, expiry and type are checked on decoding.

    Whether it may still be used is decided under the user's lock, where a rotated
    token (theft) and one ended by sign-out (merely invalid) are told apart.
    """

    def check_blacklist(self) -> None:
        return None


def _record(token: RefreshToken, *, user: User, family: uuid.UUID) -> None:
    outstanding = OutstandingToken.objects.create(
        user=user,
        jti=token[api_settings.JTI_CLAIM],
        # The jti identifies the token; its text would let anyone who reads the
        # database or a backup use it.
        token="",
        created_at=token.current_time,
        expires_at=datetime_from_epoch(token["exp"]),
    )
    RefreshTokenRecord.objects.create(outstanding=outstanding, family=family)


def _decode(refresh: str) -> _PresentedRefreshToken:
    try:
        return _PresentedRefreshToken(refresh)
    except TokenError:
        raise RefreshRefused() from None


def _lock_user(presented: RefreshToken) -> User | None:
    """Lock the token's user: all refreshes and sign-outs of a user queue here.

    So a rotation and the revocation of its family never interleave, and no
    successor can be issued past a revocation.
    """
    try:
        return (
            User.objects.select_for_update()
            .filter(pk=presented.get(api_settings.USER_ID_CLAIM))
            .first()
        )
    except (ValidationError, ValueError):
        return None


def _is_blacklisted(outstanding_id: int) -> bool:
    return BlacklistedToken.objects.filter(token_id=outstanding_id).exists()


def _record_of(presented: RefreshToken, user: User) -> RefreshTokenRecord | None:
    """The presented token's record; a token from before families gets one now."""
    jti = presented[api_settings.JTI_CLAIM]
    record = (
        RefreshTokenRecord.objects.select_related("outstanding")
        .filter(outstanding__jti=jti)
        .first()
    )
    if record is None and FAMILY_CLAIM not in presented:
        # Before families, simplejwt recorded every refresh token it issued; one it
        # blacklisted may have been rotated or signed out, which it did not tell.
        family = parse_family(jti)
        outstanding = OutstandingToken.objects.filter(jti=jti).first()
        if (
            family is not None
            and outstanding is not None
            and not _is_blacklisted(outstanding.pk)
        ):
            record = RefreshTokenRecord.objects.create(
                outstanding=outstanding, family=family
            )
    if record is None or record.outstanding.user_id != user.pk:
        return None
    return record


def _revoke_family(*, family: uuid.UUID, user: User) -> None:
    """Blacklist every refresh token of the family; its access tokens stop too."""
    now = timezone.now()
    revoked = RefreshTokenRecord.objects.filter(
        family=family, revoked_at__isnull=True
    ).update(revoked_at=now)
    live = OutstandingToken.objects.filter(
        family_record__family=family, blacklistedtoken__isnull=True
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    if revoked:
        logger.warning(
            "refresh token reuse: session family of user %s revoked", user.pk
        )
        notify(user=user, kind="token_reused", context={"detected_at": now})
    # After notify: the warning still reaches the session's own phone (push).
    push_services.deactivate_devices(
        user=user, reason="session ended: refresh token reused", session_family=family
    )


def _rotate(presented: _PresentedRefreshToken) -> FamilyRefreshToken | RefreshRefused:
    user = _lock_user(presented)
    if user is None:
        return RefreshRefused()
    if not api_settings.USER_AUTHENTICATION_RULE(user):
        return RefreshAccountInactive()
    record = _record_of(presented, user)
    if record is None:
        return RefreshRefused()
    if record.rotated_at is not None:
        _revoke_family(family=record.family, user=user)
        return RefreshTokenReused()
    if record.revoked_at is not None or _is_blacklisted(record.outstanding_id):
        return RefreshRefused()
    record.rotated_at = timezone.now()
    record.save(update_fields=["rotated_at"])
    BlacklistedToken.objects.create(token_id=record.outstanding_id)
    return FamilyRefreshToken.successor_of(presented, user=user, family=record.family)


def rotate_refresh_token(*, refresh: str) -> FamilyRefreshToken:
    """Exchange a family's newest refresh token for its successor.

    A token that was already rotated revokes its family, mails the user and raises
    RefreshTokenReused; any other unusable token raises RefreshRefused.
    """
    presented = _decode(refresh)
    # The revocation must be committed although the request fails: decide inside
    # the transaction, raise after it.
    with transaction.atomic():
        outcome = _rotate(presented)
    if isinstance(outcome, RefreshRefused):
        raise outcome
    return outcome


@transaction.atomic
def sign_out(*, refresh: str) -> None:
    """Blacklist a refresh token; its family is not revoked (this is no theft)."""
    presented = _decode(refresh)
    user = _lock_user(presented)
    record = _record_of(presented, user) if user is not None else None
    if record is None or _is_blacklisted(record.outstanding_id):
        raise RefreshRefused()
    BlacklistedToken.objects.create(token_id=record.outstanding_id)
    push_services.deactivate_devices(
        user=user, reason="signed out", session_family=record.family
    )
