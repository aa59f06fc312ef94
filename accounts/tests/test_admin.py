from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import REFRESH_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

CHANGELIST = "/admin/accounts/user/"


def run_action(admin_client, action, *users):
    return admin_client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [str(u.pk) for u in users]},
        follow=True,
    )


def test_changelist_shows_verification_deletion_and_lock(admin_client):
    UserFactory(email="gone@example.com", deleted=True)
    UserFactory(email="fresh@example.com", unverified=True)

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    content = response.content.decode()
    assert "gone@example.com" in content
    assert "erased after" in content
    assert "column-verified" in content
    assert "column-locked" in content


def test_user_change_page_renders(admin_client, user):
    assert admin_client.get(f"{CHANGELIST}{user.pk}/change/").status_code == 200


def test_deactivate_action_blocks_sign_in_and_tokens(admin_client, api_client, user):
    refresh = RefreshToken.for_user(user)

    response = run_action(admin_client, "deactivate_accounts", user)

    assert "1 account(s) deactivated." in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active
    assert api_client.post(REFRESH_URL, {"refresh": str(refresh)}).status_code == 401


def test_restore_action_brings_back_an_account_inside_the_window(admin_client):
    user = UserFactory(deleted=True, deleted_at=timezone.now() - timedelta(days=3))

    response = run_action(admin_client, "restore_accounts", user)

    assert "1 account(s) restored." in response.content.decode()
    user.refresh_from_db()
    assert user.is_active
    assert user.deleted_at is None


def test_restore_action_refuses_an_account_past_the_window(admin_client):
    user = UserFactory(deleted=True, deleted_at=timezone.now() - timedelta(days=31))

    response = run_action(admin_client, "restore_accounts", user)

    assert "not restored: " + user.email in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active


def test_restore_action_refuses_an_erased_account(admin_client):
    user = UserFactory(deleted=True, deleted_at=timezone.now() - timedelta(days=1))
    user.purged_at = timezone.now()
    user.save(update_fields=["purged_at"])

    run_action(admin_client, "restore_accounts", user)

    user.refresh_from_db()
    assert not user.is_active


def test_resend_verification_action_mails_unverified_users_only(
    admin_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    unverified = UserFactory(unverified=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, "resend_verification", user, unverified)

    assert "1 verification e-mail(s) sent." in response.content.decode()
    assert [m.to for m in mailoutbox] == [[unverified.email]]


def test_unlock_action_lifts_a_sign_in_lock(admin_client):
    user = UserFactory(
        failed_sign_ins=3, locked_until=timezone.now() + timedelta(minutes=9)
    )

    run_action(admin_client, "unlock_accounts", user)

    user.refresh_from_db()
    assert user.locked_until is None
    assert user.failed_sign_ins == 0
