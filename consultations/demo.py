"""A verified demo dermatologist for the quick start; never used in production."""

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from consultations.models import (
    ConsultationType,
    Dermatologist,
    Language,
    Specialty,
    WeeklyHours,
)

DEMO_DERMATOLOGIST = ("dermatologist@skincare.local", "demo-Derm-pass-1")


@transaction.atomic
def seed_demo() -> list[str]:
    """Create the demo dermatologist if missing; return how to sign in."""
    if not settings.DEBUG:
        return ["consultations seed_demo: skipped in production mode"]
    email, password = DEMO_DERMATOLOGIST
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email,
            password=password,
            role=User.Role.DERMATOLOGIST,
            first_name="Camille",
            last_name="Durand",
            timezone="Europe/Paris",
            email_verified_at=timezone.now(),
        )
    profile, created = Dermatologist.objects.get_or_create(
        user=user,
        defaults={
            "credentials": "MD, board-certified dermatologist",
            "licence_number": "DEMO-75-000001",
            "bio": "Demo profile: acne, rosacea and sensitive skin.",
            "timezone": "Europe/Paris",
            "minimum_notice_hours": 2,
            "verified_at": timezone.now(),
        },
    )
    if created:
        acne, _ = Specialty.objects.get_or_create(
            slug="acne", defaults={"name": "Acne"}
        )
        rosacea, _ = Specialty.objects.get_or_create(
            slug="rosacea", defaults={"name": "Rosacea"}
        )
        en, _ = Language.objects.get_or_create(code="en", defaults={"name": "English"})
        fr, _ = Language.objects.get_or_create(code="fr", defaults={"name": "French"})
        profile.specialties.set([acne, rosacea])
        profile.languages.set([en, fr])
        ConsultationType.objects.bulk_create(
            [
                ConsultationType(
                    dermatologist=profile,
                    kind=ConsultationType.Kind.VIDEO,
                    duration_minutes=30,
                    fee=Decimal("60.00"),
                    currency="EUR",
                ),
                ConsultationType(
                    dermatologist=profile,
                    kind=ConsultationType.Kind.IN_PERSON,
                    duration_minutes=45,
                    fee=Decimal("90.00"),
                    currency="EUR",
                ),
            ]
        )
        WeeklyHours.objects.bulk_create(
            WeeklyHours(dermatologist=profile, weekday=day, start=start, end=end)
            for day in range(5)
            for start, end in ((time(9), time(12)), (time(13), time(17)))
        )
    return [
        f"  dermatologist {email} / {password}"
        "  -> http://127.0.0.1:8000/dermatologist/",
    ]
