"""One sign-in service for every way a password is presented.

API tokens, the dermatologist and admin pages and Django's authenticate() call
sign_in(); password change, e-mail change and account deletion call
confirm_password(). Both apply, in this order: a per-IP and a per-account limit
(cache counters, rates in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]), the database
lockout, then the password. A limited or locked attempt is refused before the password
is looked at, so its answer is the same whether the password is right or wrong.

The counters live in the cache. If Redis is unreachable django-redis ignores the error
and they fail open, the per-account one included: the database lockout still bounds
guessing per account without Redis, whereas failing closed would let a Redis outage
(or anyone who can cause one) lock every user out.
"""

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import errors
from accounts.models import User
from skincare.throttling import UserRateThrottle

logger = logging.getLogger(__name__)

SIGN_IN_IP_SCOPE = "auth"
SIGN_IN_ACCOUNT_SCOPE = "sign_in_account"
CONFIRM_IP_SCOPE = "password_check_ip"
CONFIRM_ACCOUNT_SCOPE = "password_check"


def normalise_email(value: str) -> str:
    """The form an address is stored, looked up and counted in."""
    return value.strip().lower()


def email_key(email: str) -> str:
    """A per-account cache key part that holds no address."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


# ------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------
def sign_in(
    *,
    email: str,
    password: str,
    client_ip: str,
    require: Callable[[User], bool] | None = None,
) -> User:
    """The active account with this e-mail and password, if the limits allow.

    Raises SignInThrottled or AccountLocked (before the password is checked), else
    InvalidCredentials for an unknown address, a wrong password, an inactive account
    or one that ``require`` refuses, all alike.
    """
    email = normalise_email(email)
    _spend(scope=SIGN_IN_IP_SCOPE, ident=client_ip)
    _spend(scope=SIGN_IN_ACCOUNT_SCOPE, ident=email_key(email))
    user = User.objects.filter(
        email__iexact=email, is_active=True, deleted_at__isnull=True
    ).first()
    if user is None:
        # Hash anyway, so the answer's timing does not tell that nobody has the address.
        User().set_password(password)
        raise errors.InvalidCredentials()
    check_sign_in_lock(user=user)
    if not user.check_password(password):
        record_failed_sign_in(user=user)
        raise errors.InvalidCredentials()
    if require is not None and not require(user):
        raise errors.InvalidCredentials()
    record_successful_sign_in(user=user)
    return user


def confirm_password(
    *, user: User, password: str, client_ip: str, field: str = "password"
) -> None:
    """Check the signed-in user's password before a sensitive change.

    Call it outside any transaction the caller may roll back: a failure it records
    must stay recorded.
    """
    _spend(scope=CONFIRM_IP_SCOPE, ident=client_ip)
    _spend(scope=CONFIRM_ACCOUNT_SCOPE, ident=str(user.pk))
    check_sign_in_lock(user=user)
    if not user.check_password(password):
        record_failed_sign_in(user=user)
        raise errors.WrongPassword(field=field)
    record_successful_sign_in(user=user)


# ------------------------------------------------------------------------------
# Counters
# ------------------------------------------------------------------------------
class _Counter(UserRateThrottle):
    """The project's atomic window counter, keyed on an ident instead of a request."""

    def __init__(self, *, scope: str, ident: str):
        self.scope = scope
        self.ident = ident
        super().__init__()

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


def _spend(*, scope: str, ident: str) -> None:
    counter = _Counter(scope=scope, ident=ident)
    if not counter.allow_request(None, None):
        raise errors.SignInThrottled(counter.wait())


# ------------------------------------------------------------------------------
# Database lockout
# ------------------------------------------------------------------------------
def _lock_wait(user: User, now) -> int:
    return int((user.locked_until - now).total_seconds()) + 1


def check_sign_in_lock(*, user: User) -> None:
    """Raise AccountLocked while the account's cooling-off period runs."""
    now = timezone.now()
    if user.is_locked(now=now):
        raise errors.AccountLocked(_lock_wait(user, now))


def record_failed_sign_in(*, user: User) -> None:
    """Count a failed sign-in; the threshold-th failure locks the account.

    The counter restarts at zero when the lock is set, so a lock never lasts longer
    than ACCOUNT_LOCKOUT_MINUTES however many failures follow.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_locked(now=now):
            wait = _lock_wait(locked, now)
        else:
            locked.failed_sign_ins += 1
            wait = None
            if locked.failed_sign_ins >= settings.ACCOUNT_LOCKOUT_THRESHOLD:
                locked.failed_sign_ins = 0
                locked.locked_until = now + timedelta(
                    minutes=settings.ACCOUNT_LOCKOUT_MINUTES
                )
                wait = _lock_wait(locked, now)
                logger.warning("account %s locked after failed sign-ins", user.pk)
            locked.save(update_fields=["failed_sign_ins", "locked_until"])
    user.failed_sign_ins = locked.failed_sign_ins
    user.locked_until = locked.locked_until
    if wait is not None:
        raise errors.AccountLocked(wait)


def record_successful_sign_in(*, user: User) -> None:
    if user.failed_sign_ins or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_sign_ins=0, locked_until=None)
        user.failed_sign_ins, user.locked_until = 0, None
