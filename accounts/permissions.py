"""Permissions other apps reuse."""

from rest_framework.permissions import BasePermission


class IsEmailVerified(BasePermission):
    """Allow only signed-in users whose e-mail address is verified.

    Answers 401 to anonymous requests and 403 with code ``email_not_verified`` to
    signed-in users who have not confirmed their address yet. Use it after
    ``IsAuthenticated``: ``permission_classes = [IsAuthenticated, IsEmailVerified]``.
    """

    message = "Confirm your e-mail address first."
    code = "email_not_verified"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and user.email_verified_at is not None
        )
