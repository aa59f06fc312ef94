"""Pure skin-analysis engine (no Django): photo bytes in, JSON-ready result out.

Public API
----------
``analyse_photo(data: bytes, *, model_path: str) -> PhotoAnalysis``
    Decode, find the face, run the quality gate, measure and score. Bad uploads and
    failed quality checks come back as ``status == "failed"`` with ``failure_code``
    and ``failure_advice``; only a missing or corrupt landmark or face detector
    model raises (``EngineUnavailable``, codes ``model_missing`` / ``model_corrupt``).
    ``PhotoAnalysis.to_dict()`` is JSON-serialisable.
``inspect_image(source: bytes | BinaryIO, *, max_bytes) -> ImageHeader``
    Upload-time check from the header alone (no pixel decoded); raises
    ``ImageRejected(code, message)`` with codes ``not_an_image``,
    ``unsupported_format``, ``file_too_large``, ``image_too_large``,
    ``image_too_small``, ``corrupt_image`` (header damaged).
``check_image(data: bytes) -> None``
    Full decode check (same codes; ``corrupt_image`` also for a damaged body).
``reencode_without_metadata(source, *, max_side=None, quality=90, max_bytes) -> bytes``
    Upright sRGB JPEG without EXIF/XMP/ICC, for storing the photo; with max_side,
    bounded memory for 48 MP photos (DCT draft for JPEG, early integer reduce).
``check_model(path: str) -> None``
    Readiness probe: raises ``EngineUnavailable`` unless the model file is intact.
``check_detector(path: str) -> None`` and ``detector_path(model_path) -> str``
    The same for the full-range face detector, which sits beside the landmark model
    (``analyse_photo`` raises ``EngineUnavailable`` when it is missing or corrupt).
``lighting_comparable(a: dict, b: dict) -> bool``
    Whether two ``to_dict()`` results (or their ``image`` parts) share lighting.
``retest_noise(concern: str) -> float`` and ``TEST_RETEST_NOISE``
    Score change one can expect from re-taking the same photo (p95 measured over the
    evaluation set, ``make evaluate``; report in ``analysis/engine/EVALUATION.md``).
``scaled_noise(concern, *, face_width_px, confidence)``, ``pair_noise(concern, photos)``
    That noise grown for small faces and low confidence; pair_noise is the larger of
    two photos' (what a change between them must exceed to be real).

Scores are 0-100 and always mean "more of the concern" (higher is worse); bands are
low < 25 <= moderate < 50 <= high < 75 <= severe. Concern keys are ``CONCERNS``.
Calibration: ``analysis/engine/CALIBRATION.md``. Show ``DISCLAIMER`` with results.
"""

from .compare import (
    TEST_RETEST_NOISE,
    lighting_comparable,
    pair_noise,
    retest_noise,
    scaled_noise,
)
from .decode import ImageHeader, check_image, inspect_image, reencode_without_metadata
from .detector import DETECTOR_SHA256, check_detector, detector_path
from .errors import EngineError, EngineUnavailable, ImageRejected
from .landmarks import MODEL_SHA256, check_model
from .pipeline import (
    DISCLAIMER,
    ENGINE_VERSION,
    ConcernResult,
    PhotoAnalysis,
    RegionValue,
    SkinTone,
    analyse_photo,
)
from .quality import ADVICE as QUALITY_ADVICE
from .quality import QualityFinding, QualityStats
from .scoring import BANDS, CONCERNS

__all__ = [
    "BANDS",
    "CONCERNS",
    "DETECTOR_SHA256",
    "DISCLAIMER",
    "ENGINE_VERSION",
    "MODEL_SHA256",
    "QUALITY_ADVICE",
    "TEST_RETEST_NOISE",
    "ConcernResult",
    "EngineError",
    "EngineUnavailable",
    "ImageHeader",
    "ImageRejected",
    "PhotoAnalysis",
    "QualityFinding",
    "QualityStats",
    "RegionValue",
    "SkinTone",
    "analyse_photo",
    "check_detector",
    "check_image",
    "check_model",
    "detector_path",
    "inspect_image",
    "lighting_comparable",
    "pair_noise",
    "reencode_without_metadata",
    "retest_noise",
    "scaled_noise",
]
