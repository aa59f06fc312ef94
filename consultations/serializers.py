"""Shapes of the consultations API; input validation only, no side effects."""

from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.fields import empty

from consultations.models import (
    Consultation,
    ConsultationType,
    Dermatologist,
    SharedAnalysis,
    SharedAnalysisAccess,
)
from skincare import serializers as api_serializers


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time that must carry its UTC offset."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset, e.g. 2026-05-04T09:00:00+02:00."
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # well-formed but out of range, e.g. minute 61
                self.fail("invalid", format="ISO 8601")
            if parsed is not None and parsed.utcoffset() is None:
                self.fail("naive")
        return super().to_internal_value(value)


class ConsultationTypeSerializer(api_serializers.ModelSerializer):
    # Declared, not derived: the model field's upper bound comes from the database
    # backend (32767 on PostgreSQL, 2**63-1 on SQLite), and the schema must not.
    duration_minutes = serializers.IntegerField(min_value=5, max_value=32767)

    class Meta:
        model = ConsultationType
        fields = ["kind", "duration_minutes", "fee", "currency"]


class DermatologistSerializer(api_serializers.ModelSerializer):
    """A verified dermatologist's public profile."""

    name = serializers.CharField(source="display_name", read_only=True)
    specialties = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="slug"
    )
    languages = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="code"
    )
    consultation_types = ConsultationTypeSerializer(many=True, read_only=True)
    photo_url = serializers.SerializerMethodField()

    class Meta:
        model = Dermatologist
        fields = [
            "id",
            "name",
            "credentials",
            "licence_number",
            "specialties",
            "languages",
            "bio",
            "photo_url",
            "timezone",
            "consultation_types",
        ]

    def get_photo_url(self, obj) -> str | None:
        return obj.photo.url if obj.photo else None


class WindowEndField(serializers.DateTimeField):
    """One end of a slots window: an ISO 8601 date-time with its UTC offset."""

    default_error_messages = {
        "invalid_window": "Give an ISO 8601 date-time with its UTC offset."
    }

    def validate_empty_values(self, data):
        if data is empty or data == "":
            self.fail("invalid_window")
        return super().validate_empty_values(data)

    def to_internal_value(self, value):
        try:
            parsed = parse_datetime(str(value).strip())
        except ValueError:  # well-formed but out of range, e.g. minute 61
            parsed = None
        if parsed is None or parsed.utcoffset() is None:
            self.fail("invalid_window")
        return parsed


class SlotsQuerySerializer(api_serializers.Serializer):
    """The query of the slots list: `from`, `to` (Python keywords) and `type`."""

    def get_fields(self):
        return {
            "from": WindowEndField(),
            "to": WindowEndField(),
            "type": serializers.CharField(required=False, default="", allow_blank=True),
        }


class SlotsSerializer(api_serializers.Serializer):
    dermatologist = serializers.UUIDField()
    type = serializers.CharField()
    duration_minutes = serializers.IntegerField()
    timezone = serializers.CharField(help_text="The dermatologist's time zone.")
    slots = serializers.ListField(
        child=serializers.DateTimeField(), help_text="Free start times, in UTC."
    )


class DermatologistSummarySerializer(api_serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = Dermatologist
        fields = ["id", "name", "timezone"]


class ShareSerializer(api_serializers.ModelSerializer):
    """One analysis shared in the consultation; `revoked_at` once taken back."""

    analysis = serializers.UUIDField(source="analysis_id", read_only=True)

    class Meta:
        model = SharedAnalysis
        fields = ["analysis", "consent_given_at", "shared_at", "revoked_at"]
        read_only_fields = fields


class ConsultationSerializer(api_serializers.ModelSerializer):
    """A patient's booking, as the patient sees it."""

    dermatologist = DermatologistSummarySerializer(read_only=True)
    type = serializers.CharField(source="kind", read_only=True)
    shared_analyses = serializers.SerializerMethodField(
        help_text="Ids of the analyses shared and not revoked."
    )
    shares = ShareSerializer(many=True, read_only=True)

    class Meta:
        model = Consultation
        fields = [
            "id",
            "dermatologist",
            "type",
            "start",
            "end",
            "status",
            "fee",
            "currency",
            "reason",
            "decline_reason",
            "notes",
            "recommended_routine",
            "shared_analyses",
            "shares",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_shared_analyses(self, obj) -> list[str]:
        shares: list[SharedAnalysis] = list(obj.shares.all())
        return [str(s.analysis_id) for s in shares if s.revoked_at is None]


class BookingSerializer(api_serializers.Serializer):
    dermatologist = serializers.UUIDField()
    start = AwareDateTimeField(help_text="A free slot, ISO 8601 with offset.")
    type = serializers.ChoiceField(choices=ConsultationType.Kind.choices)
    reason = serializers.CharField(max_length=2000, allow_blank=True, default="")
    analyses = serializers.ListField(
        child=serializers.UUIDField(),
        default=list,
        max_length=10,
        help_text="Ids of your own completed analyses to share with the dermatologist.",
    )
    consent_share_with_dermatologists = serializers.BooleanField(
        default=False,
        help_text="Give consent to share analyses now (needed once, if not given yet).",
    )


class CancelSerializer(api_serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True, default="")


class RescheduleSerializer(api_serializers.Serializer):
    start = AwareDateTimeField(help_text="A free slot, ISO 8601 with offset.")


class RevokeSharesSerializer(api_serializers.Serializer):
    analyses = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        allow_empty=False,
        max_length=50,
        help_text="Ids of analyses shared in this consultation to revoke; "
        "leave out to revoke them all.",
    )


class ShareAccessSerializer(api_serializers.ModelSerializer):
    """One look by the dermatologist at an analysis the patient shared."""

    analysis = serializers.UUIDField(
        source="analysis_id",
        read_only=True,
        allow_null=True,
        help_text="Null if the analysis was deleted since.",
    )
    dermatologist = serializers.SerializerMethodField(
        help_text="Who looked; a placeholder once their account is erased."
    )

    class Meta:
        model = SharedAnalysisAccess
        fields = ["id", "analysis", "kind", "dermatologist", "accessed_at"]
        read_only_fields = fields

    def get_dermatologist(self, obj) -> str:
        name = obj.accessed_by.get_full_name() if obj.accessed_by else ""
        return f"Dr {name}" if name else "A former dermatologist"
