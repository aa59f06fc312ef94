import ast
from pathlib import Path

import pytest

from accounts.demo import DEMO_ADMIN, DEMO_DERMATOLOGIST, DEMO_EMAILS, DEMO_PATIENT
from accounts.models import User
from consultations.models import Dermatologist
from operations.demo import seed_demo

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

ACCOUNTS = Path(__file__).resolve().parents[2] / "accounts"


def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True

    first = seed_demo()
    second = seed_demo()

    assert first == second
    assert sorted(User.objects.values_list("email", flat=True)) == sorted(DEMO_EMAILS)
    assert Dermatologist.objects.count() == 1


def test_seed_demo_makes_every_account_able_to_sign_in(settings):
    settings.DEBUG = True

    seed_demo()

    for email, password in (DEMO_ADMIN, DEMO_PATIENT, DEMO_DERMATOLOGIST):
        user = User.objects.get(email=email)
        assert user.check_password(password)
        assert user.is_email_verified
    assert User.objects.get(email=DEMO_ADMIN[0]).is_superuser


def test_demo_dermatologist_is_listed_bookable_and_verified_by_the_demo_admin(
    settings,
):
    settings.DEBUG = True

    seed_demo()

    profile = Dermatologist.objects.get(user__email=DEMO_DERMATOLOGIST[0])
    assert profile.user.role == User.Role.DERMATOLOGIST
    assert profile.is_verified
    assert profile.verified_by.email == DEMO_ADMIN[0]
    assert profile.timezone == "Europe/Paris"
    assert profile.weekly_hours.count() == 10
    assert {
        (t.kind, t.duration_minutes, str(t.fee), t.currency)
        for t in profile.consultation_types.all()
    } == {
        ("video", 30, "60.00", "EUR"),
        ("in_person", 45, "90.00", "EUR"),
    }
    assert sorted(s.slug for s in profile.specialties.all()) == ["acne", "rosacea"]


def test_seed_demo_creates_nothing_in_production_mode(settings):
    settings.DEBUG = False

    lines = seed_demo()

    assert lines == ["seed_demo: skipped in production mode"]
    assert not User.objects.exists()


def test_accounts_imports_nothing_of_consultations():
    """accounts is the base every app builds on; it must not depend on one of them."""
    imported = set()
    for path in ACCOUNTS.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add((path.name, node.module.split(".")[0]))
            elif isinstance(node, ast.Import):
                imported |= {(path.name, a.name.split(".")[0]) for a in node.names}

    assert sorted(name for name, module in imported if module == "consultations") == []
