import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db

REGISTER_URL = "/api/v1/auth/register/"
ME_URL = "/api/v1/users/me/"


def error_attrs(response) -> dict[str, str]:
    return {error["attr"]: error["code"] for error in response.json()["errors"]}


def test_register_creates_a_patient(api_client):
    response = api_client.post(
        REGISTER_URL,
        {
            "email": "New.Person@Example.com",
            "password": "a-Decent-passphrase-42",
            "first_name": "Ana",
            "timezone": "Europe/Lisbon",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new.person@example.com"
    assert body["role"] == "patient"
    assert body["email_verified"] is False
    assert "password" not in body
    user = User.objects.get(email="new.person@example.com")
    assert user.password.startswith("argon2$argon2id$")


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        (
            {"email": "not-an-email", "password": "a-Decent-passphrase-42"},
            "email",
            "invalid",
        ),
        ({"email": "a@example.com", "password": "short"}, "password", "invalid"),
        ({"email": "a@example.com", "password": "password123"}, "password", "invalid"),
        ({"email": "a@example.com"}, "password", "required"),
        (
            {
                "email": "a@example.com",
                "password": "a-Decent-passphrase-42",
                "timezone": "Mars/Base",
            },
            "timezone",
            "invalid_choice",
        ),
    ],
)
def test_register_rejects_bad_input_and_writes_nothing(api_client, payload, attr, code):
    response = api_client.post(REGISTER_URL, payload)

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert error_attrs(response)[attr] == code
    assert not User.objects.exists()


def test_register_refuses_an_existing_email_in_any_case(api_client, user):
    response = api_client.post(
        REGISTER_URL,
        {"email": user.email.upper(), "password": "a-Decent-passphrase-42"},
    )

    assert response.status_code == 400
    assert error_attrs(response)["email"] == "email_taken"


def test_me_requires_authentication(api_client):
    response = api_client.get(ME_URL)

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_me_patch_updates_profile_and_stamps_consents(auth_client, user):
    response = auth_client.patch(
        ME_URL,
        {
            "first_name": "Zoe",
            "timezone": "America/New_York",
            "consent_photo_analysis": True,
            "fitzpatrick_type": 3,
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["first_name"] == "Zoe"
    assert body["consent_photo_analysis"] is True
    assert body["consent_photo_analysis_at"] is not None
    user.refresh_from_db()
    assert user.timezone == "America/New_York"
    assert user.fitzpatrick_type == 3


def test_me_patch_cannot_escalate_privileges(auth_client, user):
    user.email_verified_at = None
    user.save(update_fields=["email_verified_at"])

    response = auth_client.patch(
        ME_URL,
        {
            "role": "dermatologist",
            "is_staff": True,
            "is_superuser": True,
            "email_verified": True,
            "email_verified_at": "2020-01-01T00:00:00Z",
            "email": "attacker@example.com",
            "deleted_at": None,
            "id": "00000000-0000-0000-0000-000000000000",
        },
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.role == User.Role.PATIENT
    assert not user.is_staff
    assert not user.is_superuser
    assert user.email_verified_at is None
    assert user.email != "attacker@example.com"


def test_me_patch_rejects_bad_fitzpatrick(auth_client):
    response = auth_client.patch(ME_URL, {"fitzpatrick_type": 9})

    assert response.status_code == 400
    assert error_attrs(response)["fitzpatrick_type"] == "max_value"


def test_me_put_is_not_allowed(auth_client):
    assert auth_client.put(ME_URL, {"first_name": "X"}).status_code == 405


def test_me_patch_sets_a_supported_language(auth_client, user):
    response = auth_client.patch(ME_URL, {"language": "pt"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.language == "pt"


def test_me_patch_rejects_an_unsupported_language(auth_client, user):
    response = auth_client.patch(ME_URL, {"language": "klingon"})

    assert response.status_code == 400
    assert error_attrs(response)["language"] == "invalid_choice"
    user.refresh_from_db()
    assert user.language == "en"


def test_me_patch_cannot_touch_lifecycle_fields(auth_client, user):
    response = auth_client.patch(
        ME_URL,
        {
            "pending_email": "attacker@example.com",
            "failed_sign_ins": 0,
            "locked_until": None,
            "purged_at": "2020-01-01T00:00:00Z",
            "is_active": False,
            "password": "a-Decent-passphrase-42",
        },
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.pending_email == ""
    assert user.purged_at is None
    assert user.is_active
    assert not user.check_password("a-Decent-passphrase-42")


def test_register_user_service_refuses_a_common_password_and_writes_nothing():
    from accounts import errors, services

    with pytest.raises(errors.PasswordRejected) as refused:
        services.register_user(email="a@example.com", password="password123")

    assert refused.value.field == "password"
    assert not User.objects.exists()


def test_register_user_service_refuses_a_taken_address_in_any_case(user):
    from accounts import errors, services

    with pytest.raises(errors.EmailTaken):
        services.register_user(
            email=f"  {user.email.upper()} ", password="a-Decent-passphrase-42"
        )


def test_admin_created_account_email_is_stored_normalised():
    from accounts.admin import AdminUserCreationForm

    form = AdminUserCreationForm(
        data={
            "email": "New.Person@Example.COM",
            "password1": "a-Decent-passphrase-42",
            "password2": "a-Decent-passphrase-42",
        }
    )

    assert form.is_valid(), form.errors
    assert form.save().email == "new.person@example.com"
