"""Abuse limits for the account endpoints, counted in the default (Redis) cache.

Each sensitive endpoint has a per-IP throttle and a per-account one (sign-in and
registration keep DRF's ScopedRateThrottle scopes "auth" and "register" per IP). The
per-account throttles of anonymous endpoints key on the normalised e-mail in the
request body (hashed, so cache keys hold no address), whether or not an account has
it: the answer must not reveal which addresses exist. Rates are in
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].
"""

import hashlib

from rest_framework import throttling
from rest_framework.throttling import SimpleRateThrottle


def normalise_email(value: str) -> str:
    return value.strip().lower()


class IPRateThrottle(SimpleRateThrottle):
    """Counts requests per client IP, signed in or not."""

    def get_cache_key(self, request, view):
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }


class EmailRateThrottle(SimpleRateThrottle):
    """Counts requests per normalised e-mail address found in the request body."""

    email_field = "email"

    def get_cache_key(self, request, view):
        data = request.data
        value = data.get(self.email_field) if hasattr(data, "get") else None
        if not isinstance(value, str) or not normalise_email(value):
            return None
        ident = hashlib.sha256(normalise_email(value).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SignInAccountThrottle(EmailRateThrottle):
    scope = "sign_in_account"


class RegisterAccountThrottle(EmailRateThrottle):
    scope = "register_account"


class PasswordResetIPThrottle(IPRateThrottle):
    scope = "password_reset"


class PasswordResetAccountThrottle(EmailRateThrottle):
    scope = "password_reset_account"


class TokenIPThrottle(IPRateThrottle):
    """Guesses at verification and reset tokens."""

    scope = "token"


class VerifyEmailResendThrottle(throttling.UserRateThrottle):
    scope = "verify_email_resend"


class VerifyEmailResendIPThrottle(IPRateThrottle):
    scope = "verify_email_resend_ip"


class PasswordCheckThrottle(throttling.UserRateThrottle):
    """Operations confirmed with the current password: change, e-mail, delete."""

    scope = "password_check"


class ExportThrottle(throttling.UserRateThrottle):
    scope = "export"
