"""The quick start's demo data, made through each app's own services; DEBUG only."""

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.demo import DEMO_ADMIN, DEMO_DERMATOLOGIST, DEMO_PATIENT
from accounts.models import User
from consultations import selectors as consultation_selectors
from consultations import services as consultations
from consultations.models import ConsultationType, Dermatologist

WORKING_HOURS = [
    (day, start, end)
    for day in range(5)  # Monday to Friday
    for start, end in ((time(9), time(12)), (time(13), time(17)))
]


@transaction.atomic
def seed_demo() -> list[str]:
    """Create the missing demo accounts and return how to sign in with them."""
    if not settings.DEBUG:
        return ["seed_demo: skipped in production mode"]
    admin = _account(
        DEMO_ADMIN,
        is_staff=True,
        is_superuser=True,
        first_name="Demo",
        last_name="Admin",
    )
    _account(
        DEMO_PATIENT,
        first_name="Demo",
        last_name="Patient",
        consent_photo_analysis_at=timezone.now(),
        consent_share_with_dermatologists_at=timezone.now(),
        timezone="Europe/Paris",
    )
    _dermatologist(verified_by=admin)
    return [
        "Demo accounts (embedded defaults only):",
        f"  admin   {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}  -> http://127.0.0.1:8000/admin/",
        f"  patient {DEMO_PATIENT[0]} / {DEMO_PATIENT[1]}  -> POST /api/v1/auth/token/",
        f"  dermatologist {DEMO_DERMATOLOGIST[0]} / {DEMO_DERMATOLOGIST[1]}"
        "  -> http://127.0.0.1:8000/dermatologist/",
        "  API docs: http://127.0.0.1:8000/api/v1/docs/",
    ]


def _account(credentials: tuple[str, str], **fields) -> User:
    """The account as staff create one in the admin: verified, password set."""
    email, password = credentials
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, password=password, email_verified_at=timezone.now(), **fields
        )
    return user


def _dermatologist(*, verified_by: User) -> Dermatologist:
    """The demo dermatologist, made and verified as staff do in the admin."""
    user = _account(
        DEMO_DERMATOLOGIST,
        role=User.Role.DERMATOLOGIST,
        first_name="Camille",
        last_name="Durand",
        timezone="Europe/Paris",
    )
    profile = consultation_selectors.dermatologist_of(user=user)
    if profile is not None:
        return profile
    profile = consultations.create_dermatologist(
        user=user,
        credentials="MD, board-certified dermatologist",
        licence_number="DEMO-75-000001",
        bio="Demo profile: acne, rosacea and sensitive skin.",
        timezone="Europe/Paris",
        minimum_notice_hours=2,
        specialties=[
            consultations.ensure_specialty(slug="acne", name="Acne"),
            consultations.ensure_specialty(slug="rosacea", name="Rosacea"),
        ],
        languages=[
            consultations.ensure_language(code="en", name="English"),
            consultations.ensure_language(code="fr", name="French"),
        ],
    )
    for kind, minutes, fee in (
        (ConsultationType.Kind.VIDEO, 30, Decimal("60.00")),
        (ConsultationType.Kind.IN_PERSON, 45, Decimal("90.00")),
    ):
        consultations.add_consultation_type(
            dermatologist=profile,
            kind=kind,
            duration_minutes=minutes,
            fee=fee,
            currency="EUR",
        )
    consultations.set_weekly_hours(dermatologist=profile, ranges=WORKING_HOURS)
    return consultations.verify_dermatologist(dermatologist=profile, by=verified_by)
