"""Domain errors of the analysis app; each carries the stable code the API answers."""

from skincare.errors import DomainError


class AnalysisError(DomainError):
    """Base class: `code` is machine-readable, the message is for people."""

    code = "analysis_error"


class PhotoConsentRequired(AnalysisError):
    """The user has not consented to photo analysis."""

    status = 403
    code = "photo_consent_required"


class PhotoRejected(AnalysisError):
    """The upload is not a photo the engine accepts (code from the engine)."""

    field = "photo"

    @property
    def status(self) -> int:
        return 413 if self.code == "file_too_large" else 400


class DailyLimitReached(AnalysisError):
    """The user started ANALYSIS_MAX_PER_DAY analyses today (their time zone)."""

    status = 429
    code = "analysis_daily_limit"


class PhotoLinkInvalid(AnalysisError):
    """A signed photo link that is forged, expired, or no longer points anywhere."""

    status = 404
    code = "not_found"


class NothingToAnalyse(AnalysisError):
    """Neither a photo nor questionnaire answers were given."""

    code = "photo_or_questionnaire_required"
    field = "non_field_errors"


# User-facing reasons for failure codes the engine and this app produce.
FAILURE_REASONS = {
    "no_face": "we could not find a face in the photo.",
    "multiple_faces": "more than one face is in the photo.",
    "face_too_small": "your face is too small in the photo.",
    "head_pose": "your head is turned or tilted.",
    "too_dark": "the photo is too dark.",
    "overexposed": "the photo is too bright.",
    "blurred": "the photo is blurred.",
    "colour_cast": "the colours in the photo look tinted.",
    "no_skin_visible": "no skin area could be measured.",
    "engine_unavailable": "the analysis service is unavailable right now.",
    "processing_timeout": "it took too long to process.",
    "photo_missing": "the photo is no longer stored.",
    "internal_error": "something went wrong on our side.",
    "corrupt_image": "the photo file is damaged.",
    "image_too_large": "the photo has too many pixels.",
}
DEFAULT_REASON = "the photo could not be used."
