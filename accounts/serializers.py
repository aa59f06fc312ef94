from typing import ClassVar

from django.contrib.auth.models import update_last_login
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts import signin
from accounts.models import User
from accounts.refresh import FamilyRefreshToken
from accounts.validators import iana_timezones
from skincare import serializers as api_serializers
from skincare.http import client_ip


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 64,
        "pattern": r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$",
        "example": "Europe/Paris",
        "description": "An IANA time zone name (the tz database's `Area/Location`, "
        "e.g. `Europe/Paris`, `America/New_York`, or `UTC`), as Python's "
        "`zoneinfo.available_timezones()` lists them; case-sensitive. Any other "
        "value: 400 `invalid_choice`.",
    }
)
class TimezoneField(serializers.CharField):
    """An IANA time zone name, checked against the tz database (not a schema enum).

    A 600-member enum broke client generators (GMT0, GMT+0 and GMT-0 collide as
    identifiers) and would change with every tzdata release.
    """

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid_choice": '"{input}" is not an IANA time zone name such as '
        '"Europe/Paris".'
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value not in iana_timezones():
            self.fail("invalid_choice", input=value)
        return value


def _password_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=128, **kwargs
    )


class RegisterSerializer(api_serializers.Serializer):
    """The new account's shape; accounts.services.register_user decides the rest."""

    email = serializers.EmailField(max_length=254)
    password = _password_field()
    # Blank is the default, so a blank name is allowed (a default must satisfy its
    # own field's constraints, or generated clients and validators reject the schema).
    first_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default=""
    )
    last_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default=""
    )
    timezone = TimezoneField(required=False, default="UTC")


class SignInSerializer(TokenObtainPairSerializer):
    """simplejwt's sign-in, checked by accounts.signin (limits and lockout).

    401 ``no_active_account`` for any bad credentials; 429 ``throttled`` or
    ``account_locked`` with Retry-After, even with the right password (README,
    Accounts).
    """

    token_class = FamilyRefreshToken

    def validate(self, attrs):
        self.user = signin.sign_in(
            email=attrs[self.username_field],
            password=attrs["password"],
            client_ip=client_ip(self.context["request"]),
        )
        refresh = self.get_token(self.user)
        if jwt_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, self.user)
        return {"refresh": str(refresh), "access": str(refresh.access_token)}


class TokenPairSerializer(api_serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class DetailSerializer(api_serializers.Serializer):
    detail = serializers.CharField()


class VerifyEmailSerializer(api_serializers.Serializer):
    token = serializers.CharField(max_length=1024, trim_whitespace=True)


class VerifyEmailResultSerializer(api_serializers.Serializer):
    email = serializers.EmailField()
    email_verified = serializers.BooleanField()


class EmailChangeSerializer(api_serializers.Serializer):
    new_email = serializers.EmailField(max_length=254)
    password = _password_field()


class PasswordResetSerializer(api_serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(api_serializers.Serializer):
    token = serializers.CharField(max_length=1024, trim_whitespace=True)
    new_password = _password_field()


class PasswordChangeSerializer(api_serializers.Serializer):
    current_password = _password_field()
    new_password = _password_field()


class DeleteAccountSerializer(api_serializers.Serializer):
    password = _password_field()


class ProfileSerializer(api_serializers.ModelSerializer):
    """The signed-in user's own profile; identity and privilege fields are read-only."""

    pending_email = serializers.SerializerMethodField(
        help_text="A new address waiting for verification, or null."
    )

    timezone = TimezoneField(required=False)
    language = serializers.ChoiceField(choices=User.Language.choices, required=False)
    email_verified = serializers.BooleanField(
        source="is_email_verified", read_only=True
    )
    consent_photo_analysis = serializers.BooleanField(required=False)
    consent_share_with_dermatologists = serializers.BooleanField(required=False)
    consent_marketing = serializers.BooleanField(required=False)
    concerns = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=20
    )
    sensitivities = serializers.ListField(
        child=serializers.CharField(max_length=128), required=False, max_length=50
    )
    fitzpatrick_type = serializers.IntegerField(
        min_value=1, max_value=6, required=False, allow_null=True
    )

    @extend_schema_field({"type": "string", "format": "email", "nullable": True})
    def get_pending_email(self, obj) -> str | None:
        return obj.pending_email or None

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "timezone",
            "language",
            "role",
            "email_verified",
            "pending_email",
            "date_joined",
            "declared_skin_type",
            "concerns",
            "sensitivities",
            "fitzpatrick_type",
            "date_of_birth",
            "pregnant_or_breastfeeding",
            "consent_photo_analysis",
            "consent_photo_analysis_at",
            "consent_share_with_dermatologists",
            "consent_share_with_dermatologists_at",
            "consent_marketing",
            "consent_marketing_at",
        ]
        read_only_fields = [
            "id",
            "email",
            "pending_email",
            "role",
            "date_joined",
            "consent_photo_analysis_at",
            "consent_share_with_dermatologists_at",
            "consent_marketing_at",
        ]


class RefreshSerializer(api_serializers.Serializer):
    refresh = serializers.CharField()
