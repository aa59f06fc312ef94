import json

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analysis import engine
from analysis.engine.scoring import refer_to_dermatologist
from analysis.models import Analysis
from analysis.questionnaire import QUESTIONNAIRE, AnswerError, validate_answers
from skincare import serializers as api_serializers

BAND_CHOICES = [name for _, name in engine.BANDS]
# Where the app sends a user whose analysis shows a severe concern.
DERMATOLOGISTS_PATH = "/api/v1/dermatologists/"
BOOKING_PATH = "/api/v1/consultations/"


# ------------------------------------------------------------------------------
# Input
# ------------------------------------------------------------------------------
class PhotoField(serializers.FileField):
    """The uploaded photo; its content is checked by the engine, not by its name."""

    default_error_messages = {
        **serializers.FileField.default_error_messages,
        "not_an_image": "The file is not an image.",
        "unsupported_format": "Use a JPEG, PNG, WebP or HEIC photo.",
        "image_too_large": "The image has too many pixels.",
        "image_too_small": "The image is too small.",
        "corrupt_image": "The image is damaged.",
    }


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": "Answers keyed by question id (see GET analysis/questionnaire/)."
        " In multipart requests send it as a JSON string.",
    }
)
class QuestionnaireField(serializers.Field):
    """Questionnaire answers: an object, or a JSON string of one (multipart)."""

    default_error_messages = {
        "invalid": "Expected a JSON object of answers.",
        "unknown_question": "No such question.",
        "invalid_choice": "Not an allowed answer.",
        "invalid_type": "Wrong type of answer.",
        "duplicate_choice": "A choice is repeated.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bytes | str):
            try:
                data = json.loads(data)
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, dict):
            self.fail("invalid")
        try:
            return validate_answers(data)
        except AnswerError as exc:
            # Flat, so the error's attr stays "questionnaire" as the schema says.
            raise serializers.ValidationError(
                f"{exc.field}: {exc}", code=exc.code
            ) from exc

    def to_representation(self, value):
        return value


class AnalysisCreateSerializer(api_serializers.Serializer):
    """A photo, questionnaire answers, or both."""

    photo = PhotoField(required=False, allow_empty_file=False)
    questionnaire = QuestionnaireField(required=False)

    def validate(self, attrs):
        if not attrs.get("photo") and not attrs.get("questionnaire"):
            raise serializers.ValidationError(
                "Send a photo, questionnaire answers, or both.",
                code="photo_or_questionnaire_required",
            )
        return attrs


# ------------------------------------------------------------------------------
# Output
# ------------------------------------------------------------------------------
class AnalysisAcceptedSerializer(api_serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()


class RegionValueSerializer(api_serializers.Serializer):
    value = serializers.FloatField(allow_null=True, help_text="Raw metric value.")
    score = serializers.IntegerField(allow_null=True)


class ConcernScoreSerializer(api_serializers.Serializer):
    score = serializers.IntegerField(help_text="0-100; higher means more of it.")
    band = serializers.ChoiceField(choices=BAND_CHOICES)
    severe = serializers.BooleanField()
    confidence = serializers.FloatField(help_text="0-1, from photo quality.")
    explanation = serializers.CharField()
    regions = serializers.DictField(child=RegionValueSerializer())


class QualityFindingSerializer(api_serializers.Serializer):
    code = serializers.CharField()
    passed = serializers.BooleanField()
    value = serializers.FloatField()
    limit = serializers.FloatField()
    advice = serializers.CharField()


class SeeDermatologistSerializer(api_serializers.Serializer):
    recommended = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True)
    concerns = serializers.ListField(child=serializers.CharField())
    dermatologists_path = serializers.CharField()
    booking_path = serializers.CharField()


def see_dermatologist(scores: dict) -> dict:
    """The API's shape and wording of the engine's referral decision
    (`refer_to_dermatologist`: redness, blemishes or pigmentation severe)."""
    severe = refer_to_dermatologist(scores)
    reason = None
    if severe:
        names = ", ".join(name.replace("_", " ") for name in severe)
        reason = (
            f"Your photo shows a high level of {names}. A photo cannot diagnose; "
            "a dermatologist can look at it properly."
        )
    return {
        "recommended": bool(severe),
        "reason": reason,
        "concerns": severe,
        "dermatologists_path": DERMATOLOGISTS_PATH,
        "booking_path": BOOKING_PATH,
    }


class AnalysisSerializer(api_serializers.ModelSerializer):
    """One analysis with its result, quality findings and the disclaimer."""

    has_photo = serializers.BooleanField(read_only=True)
    photo_url = serializers.SerializerMethodField()
    profile = serializers.JSONField(read_only=True, allow_null=True)
    scores = serializers.DictField(child=ConcernScoreSerializer(), read_only=True)
    quality = serializers.SerializerMethodField()
    see_dermatologist = serializers.SerializerMethodField()
    disclaimer = serializers.SerializerMethodField()

    class Meta:
        model = Analysis
        fields = [
            "id",
            "status",
            "created_at",
            "updated_at",
            "completed_at",
            "has_photo",
            "photo_url",
            "photo_deleted_at",
            "skin_type",
            "profile",
            "scores",
            "quality",
            "failure_code",
            "failure_advice",
            "see_dermatologist",
            "disclaimer",
            "engine_version",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_photo_url(self, analysis: Analysis) -> str | None:
        if not analysis.photo:
            return None
        return reverse("analysis-photo", kwargs={"pk": analysis.pk})

    @extend_schema_field(QualityFindingSerializer(many=True))
    def get_quality(self, analysis: Analysis) -> list:
        return (analysis.photo_result or {}).get("quality", [])

    @extend_schema_field(SeeDermatologistSerializer)
    def get_see_dermatologist(self, analysis: Analysis) -> dict:
        return see_dermatologist(analysis.scores or {})

    def get_disclaimer(self, analysis: Analysis) -> str:
        return engine.DISCLAIMER


class ProgressPointSerializer(api_serializers.Serializer):
    analysis_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    engine_version = serializers.CharField(
        help_text="Scores of different engine versions are never compared."
    )
    score = serializers.IntegerField()
    band = serializers.ChoiceField(choices=BAND_CHOICES)


class LatestChangeSerializer(api_serializers.Serializer):
    change = serializers.IntegerField()
    exceeds_noise = serializers.BooleanField(
        help_text="Larger than re-taking the same photo can cause."
    )
    lighting_comparable = serializers.BooleanField(
        allow_null=True, help_text="Null when a photo's lighting is unknown."
    )


class ConcernProgressSerializer(api_serializers.Serializer):
    series = ProgressPointSerializer(many=True)
    engine_version = serializers.CharField(
        help_text="The latest analysis's engine version; first and the changes are "
        "taken among analyses of this version only."
    )
    first = serializers.IntegerField()
    latest = serializers.IntegerField()
    change_since_first = serializers.IntegerField()
    change_since_previous = serializers.IntegerField(allow_null=True)
    latest_change = LatestChangeSerializer(allow_null=True)
    retest_noise = serializers.FloatField(
        help_text="Score change re-taking the same photo can cause, scaled by the "
        "compared photos' face size and confidence; latest_change must exceed it."
    )


class ProgressSerializer(api_serializers.Serializer):
    analyses = serializers.IntegerField()
    concerns = serializers.DictField(child=ConcernProgressSerializer())


class QuestionnaireAnswerSerializer(api_serializers.Serializer):
    value = serializers.CharField()
    text = serializers.CharField()


class QuestionnaireQuestionSerializer(api_serializers.Serializer):
    id = serializers.CharField()
    axis = serializers.CharField()
    kind = serializers.ChoiceField(choices=["single", "multiple"])
    text = serializers.CharField()
    answers = QuestionnaireAnswerSerializer(many=True)


class QuestionnaireSerializer(api_serializers.Serializer):
    version = serializers.IntegerField()
    questions = QuestionnaireQuestionSerializer(many=True)


def public_questionnaire() -> dict:
    """The questionnaire without its scoring weights."""
    return QuestionnaireSerializer(QUESTIONNAIRE).data


class AnalysisErrorSerializer(api_serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class AnalysisErrorResponseSerializer(api_serializers.Serializer):
    type = serializers.CharField()
    errors = AnalysisErrorSerializer(many=True)
