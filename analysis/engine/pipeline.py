"""analyse_photo: decode, find the face, gate on quality, measure and score."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from .decode import decode_for_analysis
from .detector import find_faces
from .errors import ImageRejected
from .landmarks import Face, detect_faces, get_landmarker
from .metrics import (
    DETAIL_FACE_WIDTH,
    MIN_USABLE_FRACTION,
    Measurements,
    expose_lab,
    ita_deg,
    lab_planes,
    measure,
    skin_reference,
    to_lab,
)
from .quality import (
    QualityFinding,
    QualityStats,
    exposure_gain,
    face_count_findings,
    gate,
    measure_quality,
    quality_factor,
    tone_confidence,
)
from .regions import (
    CANONICAL_FACE_WIDTH,
    CHEEKS,
    REGION_NAMES,
    T_ZONE,
    crop_face,
    mirror_averaged,
    region_masks,
)
from .scoring import CONCERNS, SEVERE_AT, band, explain, ita_category, to_score

ENGINE_VERSION = "2.2.0"
DISCLAIMER = (
    "This analysis gives cosmetic guidance from a photo. It is not a medical "
    "diagnosis; see a dermatologist about any skin change that worries you."
)


@dataclass(frozen=True)
class RegionValue:
    """A concern's raw value and score on one face region."""

    value: float | None
    score: int | None


@dataclass(frozen=True)
class ConcernResult:
    """One concern: score 0-100 (higher = more of the concern) and how it was found."""

    score: int
    band: str
    severe: bool
    confidence: float
    raw: float
    explanation: str
    regions: dict[str, RegionValue]


@dataclass(frozen=True)
class SkinTone:
    """Individual Typology Angle of the skin and its category."""

    ita_deg: float
    category: str
    lightness: float
    a: float
    b: float
    # ITA is read with the scene's white brought to a fixed level (exposure_gain);
    # measured_ita_deg is the angle as photographed. confidence 0-1 drops when the
    # exposure could not be pinned (no near-white in the scene or a clipped one),
    # when skin b* is near 0 or when the light is tinted.
    measured_ita_deg: float = 0.0
    exposure_gain: float = 1.0
    confidence: float = 1.0
    melanin_index: float | None = None


@dataclass
class PhotoAnalysis:
    """The full result of analysing one photo; `to_dict()` is JSON-serialisable."""

    status: str
    failure_code: str | None = None
    failure_advice: str | None = None
    quality: list[QualityFinding] = field(default_factory=list)
    concerns: dict[str, ConcernResult] = field(default_factory=dict)
    skin_tone: SkinTone | None = None
    image: QualityStats | None = None
    regions_usable: dict[str, float] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)
    engine_version: str = ENGINE_VERSION
    disclaimer: str = DISCLAIMER

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of builtins (floats rounded), ready for json.dumps."""
        return _rounded(asdict(self))


def _rounded(value: Any) -> Any:
    """Round floats to 4 decimals and turn numpy scalars into builtins."""
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return round(value, 4)
    return value


def _failed(
    code: str, advice: str, timings: dict[str, float], **extra: Any
) -> PhotoAnalysis:
    return PhotoAnalysis(
        status="failed",
        failure_code=code,
        failure_advice=advice,
        timings_ms=timings,
        **extra,
    )


CONCERN_REGIONS = {
    "redness": ("forehead", *CHEEKS, "nose_hull", "chin"),
    "shine": T_ZONE,
    "texture": ("forehead", *CHEEKS, "nose_hull", "chin"),
    "pigmentation": ("forehead", *CHEEKS, "chin"),
    "lines": ("forehead", "under_eye_right", "under_eye_left"),
    "dark_circles": ("under_eye_right", "under_eye_left", *CHEEKS),
    "blemishes": ("forehead", *CHEEKS, "nose_hull", "chin"),
}
# "severe" sends the user to a dermatologist; a measurement the photo barely
# supports (clipped colour, little usable skin) cannot do that on its own.
MIN_SEVERE_CONFIDENCE = 0.5
# Texture, lines, pigmentation and blemishes read the face at DETAIL_FACE_WIDTH; a
# smaller face has been upsampled to it and holds proportionally less real detail.
DETAIL_CONCERNS = frozenset({"texture", "lines", "pigmentation", "blemishes"})


def _concerns(
    found: Measurements, quality: float, upscale: float
) -> dict[str, ConcernResult]:
    """Score every concern that has a value."""
    results = {}
    for concern in CONCERNS:
        raw = found.overall.get(concern)
        if raw is None:
            continue
        names = CONCERN_REGIONS[concern]
        coverage = float(np.mean([min(1.0, found.usable[n] / 0.8) for n in names]))
        confidence = coverage * quality
        if concern in DETAIL_CONCERNS:
            detail_upscale = upscale * DETAIL_FACE_WIDTH / CANONICAL_FACE_WIDTH
            confidence *= min(1.0, 1.0 / max(detail_upscale, 1e-6))
        if concern == "redness":
            confidence *= found.colour_usable
        confidence = round(float(np.clip(confidence, 0.0, 1.0)), 2)
        score = to_score(concern, raw)
        regions = {
            name: RegionValue(
                value=value, score=None if value is None else to_score(concern, value)
            )
            for name, value in found.regions[concern].items()
        }
        results[concern] = ConcernResult(
            score=score,
            band=band(score),
            severe=score >= SEVERE_AT and confidence >= MIN_SEVERE_CONFIDENCE,
            confidence=confidence,
            raw=raw,
            explanation=explain(concern, raw),
            regions=regions,
        )
    return results


def _skin_tone(found: Measurements, stats: QualityStats) -> SkinTone | None:
    """ITA read at a pinned exposure, with the angle as photographed beside it."""
    if found.ita_deg is None or found.skin_lab is None:
        return None
    gain, exposure_confidence = exposure_gain(stats)
    light, _, b_star = expose_lab(found.skin_lab, gain)
    ita = ita_deg(light, b_star)
    return SkinTone(
        ita_deg=ita,
        category=ita_category(ita),
        lightness=found.skin_lab[0],
        a=found.skin_lab[1],
        b=found.skin_lab[2],
        measured_ita_deg=found.ita_deg,
        exposure_gain=gain,
        confidence=tone_confidence(stats, exposure_confidence, b_star),
        melanin_index=found.melanin_index,
    )


def _mirror_averaged_face(rgb: np.ndarray, face: Face, *, model_path: str) -> Face:
    """The face with its points averaged with a reading on the mirrored photo.

    The landmarker is not mirror-symmetric, and dark circles follow its points.
    """
    mirrored = detect_faces(np.ascontiguousarray(rgb[:, ::-1]), model_path=model_path)
    if len(mirrored) != 1:
        return face
    points = mirror_averaged(face.points, mirrored[0].points, rgb.shape[1])
    return replace(face, points=points)


# The landmarks that place every region are read again on a crop around the first
# reading, resampled so the face is LANDMARK_FACE_WIDTH px wide: the same face
# photographed at 144 or 288 px then gives the landmarker nearly the same image,
# and the under-eye regions (whose lightness moves ~1.3 L* per pixel) the same
# place. 192 px: at 128-160 px the landmarks moved more with JPEG q60 and with a
# cheek tint; at the photo's own size they moved with resolution (dark circles 8
# points apart at 144 vs 288 px).
# LANDMARK_FRAME: the crop's side in face widths.
LANDMARK_FACE_WIDTH = 192
LANDMARK_FRAME = 2.2


def _canonical_face(rgb: np.ndarray, face: Face, *, model_path: str) -> Face:
    """The face's points re-read, mirror-averaged, on a crop at canonical width.

    face: the mirror-averaged reading on the whole photo, which places the crop
    (so a mirrored photo gets the mirrored crop) and is kept when the crop does not
    show exactly one face to the landmarker.
    """
    low, high = face.points[:, :2].min(axis=0), face.points[:, :2].max(axis=0)
    width = max(float(high[0] - low[0]), 1.0)
    centre = (low + high) / 2.0
    half = LANDMARK_FRAME * max(width, float(high[1] - low[1])) / 2.0
    left, top = (max(0, int(np.floor(v - half))) for v in centre)
    right = min(rgb.shape[1], int(np.ceil(centre[0] + half)))
    bottom = min(rgb.shape[0], int(np.ceil(centre[1] + half)))
    scale = LANDMARK_FACE_WIDTH / width
    part = rgb[top:bottom, left:right]
    size = (max(1, round(part.shape[1] * scale)), max(1, round(part.shape[0] * scale)))
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    small = np.ascontiguousarray(cv2.resize(part, size, interpolation=method))
    found = detect_faces(small, model_path=model_path)
    mirrored = detect_faces(np.ascontiguousarray(small[:, ::-1]), model_path=model_path)
    if len(found) != 1 or len(mirrored) != 1:
        return face
    points = mirror_averaged(found[0].points, mirrored[0].points, small.shape[1])
    points[:, :2] = points[:, :2] * np.array(
        [part.shape[1] / small.shape[1], part.shape[0] / small.shape[0]]
    ) + np.array([left, top], dtype=np.float64)
    points[:, 2] /= scale
    return replace(face, points=points)


def analyse_rgb(rgb: np.ndarray, *, model_path: str) -> PhotoAnalysis:
    """Analyse an already decoded RGB uint8 image (analysis scale)."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    get_landmarker(model_path)  # a broken landmark model is reported first
    detected = find_faces(rgb, model_path=model_path)
    timings["detector"] = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    # Two faces already decide the answer: no need to map them.
    faces = [] if len(detected) > 1 else detect_faces(rgb, model_path=model_path)
    timings["landmarks"] = (time.perf_counter() - start) * 1000
    findings = face_count_findings(faces, detected, rgb.shape)
    failed = next((f for f in findings if not f.passed), None)
    if failed is not None:
        return _failed(failed.code, failed.advice, timings, quality=findings)

    start = time.perf_counter()
    face = _mirror_averaged_face(rgb, faces[0], model_path=model_path)
    face = _canonical_face(rgb, face, model_path=model_path)
    crop = crop_face(rgb, face.points)
    # Lab, region masks and whole-face skin medians are computed once per photo and
    # shared by the quality gate and the metrics.
    lab = to_lab(crop.rgb)
    planes = lab_planes(lab)
    polygons = region_masks(crop.points, lab.shape[:2])
    union = np.logical_or.reduce(list(polygons.values()))
    reference = skin_reference(lab, union, planes)
    stats = measure_quality(rgb, face, crop, lab, union, reference=reference)
    findings += gate(stats)
    timings["quality"] = (time.perf_counter() - start) * 1000
    failed = next((f for f in findings if not f.passed), None)
    if failed is not None:
        return _failed(
            failed.code, failed.advice, timings, quality=findings, image=stats
        )

    start = time.perf_counter()
    found = measure(crop, planes=planes, polygons=polygons, reference=reference)
    usable_regions = [n for n in REGION_NAMES if found.usable[n] >= MIN_USABLE_FRACTION]
    concerns = _concerns(found, quality_factor(stats), crop.scale)
    tone = _skin_tone(found, stats)
    timings["metrics"] = (time.perf_counter() - start) * 1000
    return PhotoAnalysis(
        status="ok" if usable_regions else "failed",
        failure_code=None if usable_regions else "no_skin_visible",
        failure_advice=None if usable_regions else "No skin area could be measured.",
        quality=findings,
        concerns=concerns,
        skin_tone=tone,
        image=stats,
        regions_usable=found.usable,
        timings_ms=timings,
    )


def analyse_photo(data: bytes, *, model_path: str) -> PhotoAnalysis:
    """Analyse uploaded photo bytes; bad images come back as status 'failed'.

    Raises EngineUnavailable when the landmark model is missing or corrupt.
    """
    start = time.perf_counter()
    try:
        decoded = decode_for_analysis(data)
    except ImageRejected as exc:
        elapsed = {"decode": (time.perf_counter() - start) * 1000}
        return _failed(exc.code, exc.message, elapsed)
    decode_ms = (time.perf_counter() - start) * 1000
    result = analyse_rgb(decoded.rgb, model_path=model_path)
    result.timings_ms = {"decode": decode_ms, **result.timings_ms}
    result.timings_ms["total"] = (time.perf_counter() - start) * 1000
    return result
