"""Sign-in forms of the HTML pages (dermatologists, admin), checked by signin."""

import math
from functools import wraps

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from accounts import errors, signin
from skincare.http import client_ip

LIMIT_MESSAGES = {
    "throttled": "Too many sign-in attempts. Try again in %(minutes)s minute(s).",
    "account_locked": "Too many failed sign-ins: this account is locked for "
    "%(minutes)s minute(s). Reset the password to get in at once.",
}


class SignInForm(AuthenticationForm):
    """Django's sign-in form with accounts.signin's limits and lockout.

    A limited or locked attempt sets ``retry_after`` (seconds); the page then answers
    429 (see ``answer_429_when_limited``).
    """

    error_messages = {**AuthenticationForm.error_messages, **LIMIT_MESSAGES}
    retry_after: int | None = None

    def admits(self, user) -> bool:
        """Whether this page admits the account; a refusal reads as a wrong password."""
        return True

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is None or not password:
            return self.cleaned_data
        try:
            self.user_cache = signin.sign_in(
                email=email,
                password=password,
                client_ip=client_ip(self.request),
                require=self.admits,
            )
        except errors.RateLimited as exc:
            self.retry_after = exc.retry_after
            raise forms.ValidationError(
                self.error_messages[exc.code],
                code=exc.code,
                params={"minutes": math.ceil(exc.retry_after / 60)},
            ) from None
        except errors.InvalidCredentials:
            raise self.get_invalid_login_error() from None
        return self.cleaned_data


class AdminSignInForm(SignInForm, AdminAuthenticationForm):
    """The admin's sign-in: staff accounts only, as AdminAuthenticationForm."""

    error_messages = {**AdminAuthenticationForm.error_messages, **LIMIT_MESSAGES}

    def admits(self, user) -> bool:
        return user.is_staff


def answer_429_when_limited(login_view):
    """Wrap a login view: a page refused by a sign-in limit answers 429, Retry-After."""

    @wraps(login_view)
    def view(request, *args, **kwargs):
        response = login_view(request, *args, **kwargs)
        form = (getattr(response, "context_data", None) or {}).get("form")
        wait = getattr(form, "retry_after", None)
        if wait:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response

    return view
