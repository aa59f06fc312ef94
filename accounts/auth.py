"""JWT authentication: deleted or inactive users and ended sessions are refused."""

import uuid

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import RefreshTokenRecord

# The refresh token family claim (accounts/refresh.py); access tokens copy it.
FAMILY_CLAIM = "fam"


def parse_family(value) -> uuid.UUID | None:
    """A family id from a claim, or None if the value is not one."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def can_authenticate(user) -> bool:
    return user is not None and user.is_active and user.deleted_at is None


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's bearer authentication that also refuses soft-deleted users.

    An access token of a refresh token family (the ``fam`` claim) is good only while
    that family has a token that is not revoked, checked in the query that loads the
    user. Access tokens without the claim predate families and expire in minutes.
    """

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError:
            raise InvalidToken(
                "Token contained no recognizable user identification"
            ) from None
        try:
            users = self.user_model.objects.filter(
                **{api_settings.USER_ID_FIELD: user_id}
            )
        except (ValidationError, ValueError):
            raise AuthenticationFailed(
                "User not found", code="user_not_found"
            ) from None
        checks_family = FAMILY_CLAIM in validated_token
        if checks_family:
            family = parse_family(validated_token[FAMILY_CLAIM])
            if family is None:
                raise InvalidToken("Token has an invalid session family")
            users = users.annotate(
                session_live=Exists(
                    RefreshTokenRecord.objects.filter(
                        family=family,
                        outstanding__user=OuterRef("pk"),
                        revoked_at__isnull=True,
                    )
                )
            )
        user = users.first()
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if not can_authenticate(user):
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                "The user's password has been changed.", code="password_changed"
            )
        if checks_family and not user.session_live:
            raise InvalidToken("The session of this token has ended")
        return user
