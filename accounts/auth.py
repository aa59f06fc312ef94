"""JWT authentication rules: deleted or inactive users are refused at once."""

from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed


def can_authenticate(user) -> bool:
    return user is not None and user.is_active and user.deleted_at is None


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's bearer authentication that also refuses soft-deleted users."""

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if not can_authenticate(user):
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return user
