"""Demo accounts for the quick start; never used in production mode."""

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from consultations.demo import DEMO_DERMATOLOGIST
from consultations.demo import seed_demo as seed_consultations_demo

DEMO_ADMIN = ("admin@skincare.local", "demo-Admin-pass-1")
DEMO_PATIENT = ("patient@skincare.local", "demo-Patient-pass-1")
# Their passwords are in this repository: the deploy check fails while any exists.
DEMO_EMAILS = (DEMO_ADMIN[0], DEMO_PATIENT[0], DEMO_DERMATOLOGIST[0])


def _ensure(email: str, password: str, **fields) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, **fields)
    return user


def seed_demo() -> list[str]:
    """Create the demo users if missing and return lines that say how to sign in."""
    if not settings.DEBUG:
        return ["seed_demo: skipped in production mode"]
    now = timezone.now()
    _ensure(
        DEMO_ADMIN[0],
        DEMO_ADMIN[1],
        is_staff=True,
        is_superuser=True,
        email_verified_at=now,
        first_name="Demo",
        last_name="Admin",
    )
    _ensure(
        DEMO_PATIENT[0],
        DEMO_PATIENT[1],
        email_verified_at=now,
        first_name="Demo",
        last_name="Patient",
        consent_photo_analysis_at=now,
        consent_share_with_dermatologists_at=now,
        timezone="Europe/Paris",
    )
    return [
        "Demo accounts (embedded defaults only):",
        f"  admin   {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}  -> http://127.0.0.1:8000/admin/",
        f"  patient {DEMO_PATIENT[0]} / {DEMO_PATIENT[1]}  -> POST /api/v1/auth/token/",
        "  API docs: http://127.0.0.1:8000/api/v1/docs/",
        *seed_consultations_demo(),
    ]
