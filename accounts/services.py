"""Domain verbs for accounts."""

from django.db import transaction
from django.utils import timezone

from accounts.models import User

CONSENT_FIELDS = {
    "consent_photo_analysis": "consent_photo_analysis_at",
    "consent_share_with_dermatologists": "consent_share_with_dermatologists_at",
    "consent_marketing": "consent_marketing_at",
}


@transaction.atomic
def register_user(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    timezone_name: str = "UTC",
) -> User:
    """Create a patient account."""
    return User.objects.create_user(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        timezone=timezone_name,
    )


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
    return user
