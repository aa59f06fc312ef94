"""Photo quality gate: checks run before scoring, each with a stable code and advice."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .landmarks import Face
from .metrics import SkinReference
from .regions import EYE_OUTER, FaceCrop, face_oval_mask

MULTIPLE_FACE_RATIO = 0.35
MIN_FACE_FRACTION = 0.2
MIN_FACE_PIXELS = 100
MAX_YAW_DEG = 25.0
MAX_PITCH_DEG = 25.0
MAX_ROLL_DEG = 20.0
MIN_FACE_P95_LIGHTNESS = 40.0
MIN_FACE_MEDIAN_LIGHTNESS = 18.0
MAX_CLIPPED_FRACTION = 0.15
MAX_FACE_MEDIAN_LIGHTNESS = 92.0
SKIN_HUE_RANGE_DEG = (20.0, 90.0)
MIN_SKIN_CHROMA = 5.0
MAX_SKIN_CHROMA = 45.0
MIN_SHARPNESS = 0.05

ADVICE = {
    "no_face": "We could not find a face. Face the camera in good light, with nothing "
    "covering your face.",
    "multiple_faces": "More than one face is in the photo. Take a photo with only "
    "your face in it.",
    "face_too_small": "Your face is too small in the photo. Hold the camera closer so "
    "your face fills most of the frame.",
    "head_pose": "Your head is turned or tilted. Look straight at the camera and keep "
    "your head level.",
    "too_dark": "The photo is too dark. Face a window or a soft light and try again.",
    "overexposed": "The photo is too bright or washed out. Move away from direct light "
    "or turn off the flash.",
    "blurred": "The photo is blurred. Hold the phone steady, tap to focus on your face "
    "and clean the lens.",
    "colour_cast": "The colours look tinted. Use daylight or white light and turn off "
    "filters or beauty modes.",
}
ORDER = tuple(ADVICE)


@dataclass(frozen=True)
class QualityFinding:
    """One quality check: its code, whether it passed, the measured value and limit."""

    code: str
    passed: bool
    value: float
    limit: float
    advice: str


@dataclass(frozen=True)
class QualityStats:
    """Image facts used by the gate and by lighting comparisons between photos."""

    face_width_px: float
    face_fraction: float
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    face_lightness: float
    face_lightness_p95: float
    clipped_fraction: float
    skin_hue_deg: float
    skin_chroma: float
    sharpness: float
    image_lightness: float
    white_balance_a: float
    white_balance_b: float


def head_pose(face: Face) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees: roll from the eye line, the rest from the pose."""
    right_eye, left_eye = face.points[EYE_OUTER[0]], face.points[EYE_OUTER[1]]
    roll = math.degrees(
        math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])
    )
    if face.matrix is None:
        return 0.0, 0.0, roll
    rotation = face.matrix[:3, :3]
    yaw = math.degrees(math.asin(float(np.clip(-rotation[2, 0], -1.0, 1.0))))
    pitch = math.degrees(math.atan2(rotation[2, 1], rotation[2, 2]))
    return yaw, pitch, roll


def sharpness(crop: FaceCrop, lab: np.ndarray) -> float:
    """Laplacian energy of the face at half canonical scale over its contrast."""
    oval = face_oval_mask(crop.points, lab.shape[:2])
    light = lab[..., 0] if lab.ndim == 3 else lab
    half = cv2.resize(light, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    small = cv2.resize(oval.astype(np.uint8), half.shape[::-1]) > 0
    small = cv2.erode(small.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if small.sum() < 100:
        return 0.0
    laplace = cv2.Laplacian(half, cv2.CV_32F, ksize=1)
    contrast = float(half[small].std()) + 1.0
    return float(laplace[small].std() / contrast)


def _clipped_fraction(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Share of masked pixels with any channel at 250 or above."""
    total = int(np.count_nonzero(mask))
    if total == 0:
        return float("nan")
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
    unclipped = cv2.inRange(rgb[y : y + h, x : x + w], (0, 0, 0), (249, 249, 249))
    inside = cv2.bitwise_and(unclipped, mask[y : y + h, x : x + w].view(np.uint8))
    return (total - cv2.countNonZero(inside)) / total


def measure_quality(
    rgb: np.ndarray,
    face: Face,
    crop: FaceCrop,
    lab: np.ndarray,
    skin_union: np.ndarray,
    *,
    reference: SkinReference | None = None,
) -> QualityStats:
    """Measure everything the gate needs on the analysis image and face crop.

    reference (skin_reference of the same lab and union) saves recomputing medians.
    """
    yaw, pitch, roll = head_pose(face)
    light = lab[..., 0][skin_union]
    if reference is None:
        l_med = float(np.median(light))
        a_med = float(np.median(lab[..., 1][skin_union]))
        b_med = float(np.median(lab[..., 2][skin_union]))
    else:
        l_med, a_med, b_med = reference.lightness, reference.a, reference.b
    clipped = _clipped_fraction(crop.rgb, skin_union)
    small = cv2.resize(
        rgb,
        (256, max(1, round(256 * rgb.shape[0] / rgb.shape[1]))),
        interpolation=cv2.INTER_AREA,
    )
    whole = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    return QualityStats(
        face_width_px=face.width,
        face_fraction=face.width / min(rgb.shape[:2]),
        yaw_deg=yaw,
        pitch_deg=pitch,
        roll_deg=roll,
        face_lightness=l_med,
        face_lightness_p95=float(np.percentile(light, 95, overwrite_input=True)),
        clipped_fraction=clipped,
        skin_hue_deg=math.degrees(math.atan2(b_med, a_med)),
        skin_chroma=math.hypot(a_med, b_med),
        sharpness=sharpness(crop, lab),
        image_lightness=float(whole[..., 0].mean()),
        white_balance_a=float(whole[..., 1].mean()),
        white_balance_b=float(whole[..., 2].mean()),
    )


def _finding(code: str, passed: bool, value: float, limit: float) -> QualityFinding:
    return QualityFinding(
        code=code,
        passed=bool(passed),
        value=round(float(value), 3),
        limit=limit,
        advice=ADVICE[code],
    )


def face_count_findings(faces: list[Face]) -> list[QualityFinding]:
    """no_face and multiple_faces, checked before anything else is measured."""
    if not faces:
        return [_finding("no_face", False, 0, 1)]
    second = faces[1].width / faces[0].width if len(faces) > 1 else 0.0
    return [
        _finding("no_face", True, len(faces), 1),
        _finding(
            "multiple_faces", second < MULTIPLE_FACE_RATIO, second, MULTIPLE_FACE_RATIO
        ),
    ]


def gate(stats: QualityStats) -> list[QualityFinding]:
    """Every photometric and geometric check, passed or not, in a fixed order."""
    size_ok = (
        stats.face_fraction >= MIN_FACE_FRACTION
        and stats.face_width_px >= MIN_FACE_PIXELS
    )
    pose = max(
        abs(stats.yaw_deg) / MAX_YAW_DEG,
        abs(stats.pitch_deg) / MAX_PITCH_DEG,
        abs(stats.roll_deg) / MAX_ROLL_DEG,
    )
    dark = (
        stats.face_lightness_p95 < MIN_FACE_P95_LIGHTNESS
        or stats.face_lightness < MIN_FACE_MEDIAN_LIGHTNESS
    )
    bright = (
        stats.clipped_fraction > MAX_CLIPPED_FRACTION
        or stats.face_lightness > MAX_FACE_MEDIAN_LIGHTNESS
    )
    low, high = SKIN_HUE_RANGE_DEG
    cast = (
        not low <= stats.skin_hue_deg <= high
        or not MIN_SKIN_CHROMA <= stats.skin_chroma <= MAX_SKIN_CHROMA
    )
    return [
        _finding("face_too_small", size_ok, stats.face_fraction, MIN_FACE_FRACTION),
        _finding("head_pose", pose <= 1.0, pose, 1.0),
        _finding(
            "too_dark", not dark, stats.face_lightness_p95, MIN_FACE_P95_LIGHTNESS
        ),
        _finding(
            "overexposed", not bright, stats.clipped_fraction, MAX_CLIPPED_FRACTION
        ),
        _finding(
            "blurred", stats.sharpness >= MIN_SHARPNESS, stats.sharpness, MIN_SHARPNESS
        ),
        _finding("colour_cast", not cast, stats.skin_hue_deg, high),
    ]


def quality_factor(stats: QualityStats) -> float:
    """0-1 multiplier for confidence: 1 well inside every limit, lower near them."""
    sharp = min(1.0, stats.sharpness / (2.0 * MIN_SHARPNESS))
    size = min(1.0, stats.face_fraction / (1.5 * MIN_FACE_FRACTION))
    light = min(1.0, (stats.face_lightness_p95 - MIN_FACE_P95_LIGHTNESS) / 20.0 + 0.5)
    turn = max(abs(stats.yaw_deg) / MAX_YAW_DEG, abs(stats.pitch_deg) / MAX_PITCH_DEG)
    pose = 1.0 - 0.5 * turn**2
    return float(
        np.clip(min(sharp, size, light, pose, 1.0 - stats.clipped_fraction), 0.0, 1.0)
    )
