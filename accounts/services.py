"""Domain verbs for accounts: registration, verification, passwords, deletion."""

import copy
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import errors, signals, signin, tokens
from accounts.models import User
from accounts.refresh import FamilyRefreshToken
from accounts.signin import normalise_email
from notifications.services import notify
from push import services as push_services

logger = logging.getLogger(__name__)

CONSENT_FIELDS = {
    "consent_photo_analysis": "consent_photo_analysis_at",
    "consent_share_with_dermatologists": "consent_share_with_dermatologists_at",
    "consent_marketing": "consent_marketing_at",
}


# ------------------------------------------------------------------------------
# Registration and profile
# ------------------------------------------------------------------------------
def check_new_password(*, password: str, user: User, field: str) -> None:
    """Apply Django's password validators; PasswordRejected lists every failure."""
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise errors.PasswordRejected(exc.messages, field=field) from None


@transaction.atomic
def register_user(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    timezone_name: str = "UTC",
) -> User:
    """Create a patient account and send the verification e-mail."""
    email = normalise_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise errors.EmailTaken()
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    check_new_password(password=password, user=candidate, field="password")
    try:
        # A concurrent registration may take the address between the check above and
        # this insert; the unique index decides.
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                timezone=timezone_name,
            )
    except IntegrityError:
        raise errors.EmailTaken() from None
    send_email_verification(user=user, email=user.email)
    return user


@transaction.atomic
def update_profile(*, user: User, **changes) -> User:
    """Apply profile changes; consents given as booleans are stored as timestamps."""
    now = timezone.now()
    update_fields = []
    for field, value in changes.items():
        if field in CONSENT_FIELDS:
            stamp_field = CONSENT_FIELDS[field]
            if value and getattr(user, stamp_field) is None:
                setattr(user, stamp_field, now)
            elif not value:
                setattr(user, stamp_field, None)
            update_fields.append(stamp_field)
        else:
            setattr(user, field, value)
            update_fields.append(field)
    if update_fields:
        user.full_clean(exclude=["password"], validate_unique=False)
        user.save(update_fields=update_fields)
        signals.profile_changed.send(sender=User, user=user, fields=update_fields)
    return user


# ------------------------------------------------------------------------------
# E-mail verification and change
# ------------------------------------------------------------------------------
def send_email_verification(*, user: User, email: str) -> None:
    """E-mail a verification token for ``email`` (the account's or its pending one).

    Only the token's recipe is stored; the e-mail worker re-makes the token.
    """
    # notify() writes to user.email; a copy addressed to the new address keeps the
    # same recipient row while the mail goes where the token has to prove ownership.
    recipient = user
    if email != user.email:
        recipient = copy.copy(user)
        recipient.email = email
    notify(
        user=recipient,
        kind="email_verification",
        context={
            "secret": tokens.recipe(tokens.VERIFY_EMAIL, user, email=email),
            "expires_hours": settings.ACCOUNT_EMAIL_VERIFICATION_HOURS,
        },
    )


@transaction.atomic
def resend_email_verification(*, user: User) -> str:
    """Send a fresh token for the pending address, else for an unverified one."""
    if user.pending_email:
        email = user.pending_email
    elif not user.is_email_verified:
        email = user.email
    else:
        raise errors.AlreadyVerified()
    send_email_verification(user=user, email=email)
    return email


@transaction.atomic
def verify_email(*, token: str) -> User:
    """Mark the token's address verified; a pending new address becomes the e-mail."""
    use = tokens.check_token(tokens.VERIFY_EMAIL, token, for_update=True)
    user = use.user
    now = timezone.now()
    if use.email == user.email:
        user.email_verified_at = now
        user.save(update_fields=["email_verified_at"])
        notify(user=user, kind="welcome", idempotency_key=f"welcome:{user.pk}")
        return user
    if use.email != user.pending_email:
        raise errors.TokenUsed()
    if User.objects.filter(email__iexact=use.email).exclude(pk=user.pk).exists():
        raise errors.EmailTaken()
    user.email = use.email
    user.pending_email = ""
    user.email_verified_at = now
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "pending_email", "email_verified_at"])
    except IntegrityError:
        raise errors.EmailTaken() from None
    return user


def request_email_change(
    *, user: User, new_email: str, password: str, client_ip: str
) -> User:
    """Remember the new address and send it a token; the e-mail changes on confirm."""
    signin.confirm_password(user=user, password=password, client_ip=client_ip)
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise errors.EmailUnchanged()
    if User.objects.filter(email__iexact=new_email).exists():
        error = errors.EmailTaken()
        error.field = "new_email"
        raise error
    with transaction.atomic():
        user.pending_email = new_email
        user.save(update_fields=["pending_email"])
        send_email_verification(user=user, email=new_email)
    return user


# ------------------------------------------------------------------------------
# Passwords and sessions
# ------------------------------------------------------------------------------
def revoke_refresh_tokens(*, user: User) -> int:
    """Blacklist every outstanding refresh token of the user; returns how many.

    Pushes to the user's devices stop too: each registered under a session.
    """
    outstanding = OutstandingToken.objects.filter(
        user=user, blacklistedtoken__isnull=True
    )
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding],
        ignore_conflicts=True,
    )
    push_services.deactivate_devices(user=user, reason="every session ended")
    return len(created)


def send_password_reset(*, email: str) -> bool:
    """E-mail a reset token if an active account has this address (worker side)."""
    user = (
        User.objects.filter(
            email__iexact=normalise_email(email),
            is_active=True,
            deleted_at__isnull=True,
        )
        .only("pk", "email", "password", "is_active", "first_name", "timezone")
        .first()
    )
    if user is None:
        return False
    notify(
        user=user,
        kind="password_reset",
        context={
            "secret": tokens.recipe(tokens.PASSWORD_RESET, user),
            "expires_hours": settings.ACCOUNT_PASSWORD_RESET_HOURS,
        },
    )
    return True


def _set_password(*, user: User, new_password: str) -> None:
    """Store the new password, clear any lockout and end every session."""
    user.set_password(new_password)
    user.failed_sign_ins = 0
    user.locked_until = None
    user.save(update_fields=["password", "failed_sign_ins", "locked_until"])
    # Before the sessions end, so the warning is also pushed to the signed-in phones.
    notify(
        user=user,
        kind="password_changed",
        context={"changed_at": timezone.now()},
    )
    revoke_refresh_tokens(user=user)


@transaction.atomic
def reset_password(*, token: str, new_password: str) -> User:
    """Set a new password from a reset token; every refresh token is revoked."""
    user = tokens.check_token(tokens.PASSWORD_RESET, token, for_update=True).user
    check_new_password(password=new_password, user=user, field="new_password")
    _set_password(user=user, new_password=new_password)
    return user


def change_password(
    *, user: User, current_password: str, new_password: str, client_ip: str
) -> RefreshToken:
    """Change the password, revoke every session and return one for this device."""
    check_new_password(password=new_password, user=user, field="new_password")
    signin.confirm_password(
        user=user,
        password=current_password,
        client_ip=client_ip,
        field="current_password",
    )
    with transaction.atomic():
        _set_password(user=user, new_password=new_password)
        return FamilyRefreshToken.for_user(user)


# ------------------------------------------------------------------------------
# Sign-in lockout (counted and enforced in accounts/signin.py)
# ------------------------------------------------------------------------------
@transaction.atomic
def unlock_account(*, user: User) -> None:
    user.failed_sign_ins = 0
    user.locked_until = None
    user.save(update_fields=["failed_sign_ins", "locked_until"])


# ------------------------------------------------------------------------------
# Deletion, restore, deactivation
# ------------------------------------------------------------------------------
def purge_date(user: User):
    """When the soft-deleted account's data will be erased."""
    return user.deleted_at + timedelta(days=settings.ACCOUNT_PURGE_AFTER_DAYS)


def delete_account(*, user: User, password: str, client_ip: str) -> User:
    """Soft-delete: sign-in and every token stop at once; erasure comes later."""
    signin.confirm_password(user=user, password=password, client_ip=client_ip)
    with transaction.atomic():
        user.is_active = False
        user.deleted_at = timezone.now()
        user.save(update_fields=["is_active", "deleted_at"])
        revoke_refresh_tokens(user=user)
        notify(
            user=user,
            kind="account_deleted",
            context={"purge_after": purge_date(user)},
            idempotency_key=f"account_deleted:{user.pk}:{user.deleted_at.isoformat()}",
        )
    return user


@transaction.atomic
def restore_account(*, user: User) -> User:
    """Undo a soft delete inside the retention period (staff only)."""
    if not user.is_deleted or user.is_purged or purge_date(user) <= timezone.now():
        raise errors.RestoreWindowClosed()
    user.is_active = True
    user.deleted_at = None
    user.save(update_fields=["is_active", "deleted_at"])
    return user


@transaction.atomic
def deactivate_account(*, user: User) -> User:
    """Block sign-in and every token without scheduling erasure (staff only)."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoke_refresh_tokens(user=user)
    return user


# ------------------------------------------------------------------------------
# Data export and erasure (see accounts/lifecycle.py)
# ------------------------------------------------------------------------------
USER_EXPORT_EXCLUDE = ("password",)


def export_user_data(*, user: User) -> dict:
    """The account row itself, without the password hash."""
    from accounts.lifecycle import export_rows

    rows = export_rows(
        User.objects.filter(pk=user.pk),
        exclude=USER_EXPORT_EXCLUDE,
        many_to_many=("groups",),
    )
    return {"accounts.User": rows}


def erase_user_data(*, user: User) -> None:
    """Anonymise the account row, which stays for records that must keep a link."""
    OutstandingToken.objects.filter(user=user).delete()
    user.groups.clear()
    user.user_permissions.clear()
    erased = {
        "email": f"erased-{user.pk.hex}@erased.invalid",
        "pending_email": "",
        "first_name": "",
        "last_name": "",
        "timezone": "UTC",
        "language": User.Language.ENGLISH,
        "last_login": None,
        "email_verified_at": None,
        "declared_skin_type": "",
        "concerns": [],
        "sensitivities": [],
        "fitzpatrick_type": None,
        "date_of_birth": None,
        "pregnant_or_breastfeeding": False,
        "consent_photo_analysis_at": None,
        "consent_share_with_dermatologists_at": None,
        "consent_marketing_at": None,
        "failed_sign_ins": 0,
        "locked_until": None,
        "is_active": False,
        "is_staff": False,
        "is_superuser": False,
    }
    for field, value in erased.items():
        setattr(user, field, value)
    user.set_unusable_password()
    user.save(update_fields=[*erased, "password"])
