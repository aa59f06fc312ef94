from django.contrib.auth import password_validation
from rest_framework import serializers

from accounts.models import User
from accounts.validators import iana_timezones


class TimezoneField(serializers.ChoiceField):
    """An IANA time zone name."""

    def __init__(self, **kwargs):
        super().__init__(choices=sorted(iana_timezones()), **kwargs)


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=128
    )
    first_name = serializers.CharField(max_length=150, required=False, default="")
    last_name = serializers.CharField(max_length=150, required=False, default="")
    timezone = TimezoneField(required=False, default="UTC")

    def validate_email(self, value: str) -> str:
        value = value.strip().lower()
        if User.objects.filter(email__iexact=value).exists():
            raise serializers.ValidationError(
                "An account with this e-mail address already exists.",
                code="email_taken",
            )
        return value

    def validate(self, attrs):
        candidate = User(
            email=attrs["email"],
            first_name=attrs["first_name"],
            last_name=attrs["last_name"],
        )
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except Exception as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class ProfileSerializer(serializers.ModelSerializer):
    """The signed-in user's own profile; identity and privilege fields are read-only."""

    timezone = TimezoneField(required=False)
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
            "role",
            "date_joined",
            "consent_photo_analysis_at",
            "consent_share_with_dermatologists_at",
            "consent_marketing_at",
        ]
