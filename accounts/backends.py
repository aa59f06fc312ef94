"""Django's authenticate() through accounts/signin.py, so no caller skips its limits."""

from django.contrib.auth.backends import ModelBackend

from accounts import errors, signin
from accounts.models import User
from skincare.http import client_ip


class SignInBackend(ModelBackend):
    """ModelBackend (permissions, sessions) whose password check is signin.sign_in.

    A throttled or locked attempt is refused like a wrong password: authenticate()
    callers only know "a user" or "nobody". Without a request the per-IP counter is
    the one shared by every request-less caller.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not isinstance(username, str) or password is None:
            return None
        try:
            return signin.sign_in(
                email=username,
                password=password,
                client_ip=client_ip(request) if request is not None else "",
            )
        except (errors.InvalidCredentials, errors.RateLimited):
            return None
