"""Abuse limits for the account endpoints, counted in the default (Redis) cache.

Each sensitive endpoint has a per-IP throttle and a per-account one (registration keeps
DRF's ScopedRateThrottle scope "register" per IP). The per-account throttles of
anonymous endpoints key on the normalised e-mail in the request body (hashed, so cache
keys hold no address), whether or not an account has it: the answer must not reveal
which addresses exist. Rates are in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]. Every
password presented (sign-in, password change, e-mail change, deletion) is counted by
accounts/signin.py instead, so those views have no throttle of their own.
"""

from rest_framework import throttling
from rest_framework.throttling import SimpleRateThrottle

from accounts.signin import email_key, normalise_email
from skincare.throttling import ClientIPMixin


class IPRateThrottle(ClientIPMixin, SimpleRateThrottle):
    """Counts requests per client IP, signed in or not."""

    def get_cache_key(self, request, view):
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }


class EmailRateThrottle(ClientIPMixin, SimpleRateThrottle):
    """Counts requests per normalised e-mail address found in the request body."""

    email_field = "email"

    def get_cache_key(self, request, view):
        data = request.data
        value = data.get(self.email_field) if hasattr(data, "get") else None
        if not isinstance(value, str) or not normalise_email(value):
            return None
        return self.cache_format % {"scope": self.scope, "ident": email_key(value)}


class RegisterAccountThrottle(EmailRateThrottle):
    scope = "register_account"


class PasswordResetIPThrottle(IPRateThrottle):
    scope = "password_reset"


class PasswordResetAccountThrottle(EmailRateThrottle):
    scope = "password_reset_account"


class TokenIPThrottle(IPRateThrottle):
    """Guesses at verification and reset tokens."""

    scope = "token"


class VerifyEmailResendThrottle(ClientIPMixin, throttling.UserRateThrottle):
    scope = "verify_email_resend"


class VerifyEmailResendIPThrottle(IPRateThrottle):
    scope = "verify_email_resend_ip"


class ExportThrottle(ClientIPMixin, throttling.UserRateThrottle):
    scope = "export"
