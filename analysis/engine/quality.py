"""Photo quality gate: checks run before scoring, each with a stable code and advice."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .detector import Detection
from .landmarks import Face
from .metrics import OD_LUT, SkinReference, chromophores, lab_f_inverse
from .regions import EYE_OUTER, FaceCrop, face_oval_mask

# The eye openings (upper and lower lid contours) and each iris's centre and rim on
# the 478-point mesh, subject's right eye first.
EYE_OPENINGS = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
)
IRISES = ((468, (469, 470, 471, 472)), (473, (474, 475, 476, 477)))

MIN_FACE_FRACTION = 0.2
MIN_FACE_PIXELS = 100
MAX_YAW_DEG = 25.0
MAX_PITCH_DEG = 25.0
MAX_ROLL_DEG = 20.0
# Exposure is judged from the scene, not from the skin: the brightest 1% of the
# image (whites of the eyes, teeth, clothes, highlights) sits near L* 75-100 in a
# normally exposed photo whatever the person's skin tone, and drops to ~35-55 when
# the photo is 1.5-2.5 stops too dark.
MIN_WHITE_LIGHTNESS = 60.0
# Below this median L* the skin's colour is lost in sensor noise, at any skin tone.
MIN_FACE_MEDIAN_LIGHTNESS = 10.0
# Overexposure is clipping of luminance (L* >= 97, i.e. all channels near white);
# one saturated channel (a flushed fair cheek's red) is not overexposure.
CLIPPED_LIGHTNESS = 97.0
MAX_CLIPPED_FRACTION = 0.15
MAX_FACE_MEDIAN_LIGHTNESS = 92.0
# Colour cast: the scene's light estimated from the image around the face (max
# edge: the strongest edges average to the light's colour), split into a green
# axis (real light sources sit near the warm-cool Planckian axis, so green is a
# tint) and a warm-cool axis (log of blue over red, halved); plus the skin's
# chromophores (a cast that leaves skin with less than no haemoglobin or melanin is
# a tint, not a complexion; a flush only adds haemoglobin, which is allowed) and a
# floor on colour (greyscale photos). Magenta is not judged: a flush looks magenta.
MAX_ILLUMINANT_GREEN = 0.18
MAX_ILLUMINANT_BLUE = 0.30
MAX_ILLUMINANT_ORANGE = 0.50
# The whites of the eyes are a second neutral reference, on the face itself: in
# white light the sclera reads about 0.09 magenta on the green axis (its vessels;
# 0.03-0.2 on the evaluation set), so a reading above 0.02 green is green light.
# It is trusted only when enough of it is seen (eyes open, face not tiny), it is
# not in deep shadow and it is not far more orange than the scene's light (else
# lids or skin were read, as in a squinting smile); otherwise the scene decides
# alone. Only green is judged from it: the sclera's own yellowness varies from
# person to person as much as a white-balance shift does.
MAX_SCLERA_GREEN = 0.02
USUAL_SCLERA_GREEN = -0.09
MIN_SCLERA_PIXELS = 60
MIN_SCLERA_LIGHTNESS = 35.0
MAX_SCLERA_ORANGE_OVER_SCENE = 0.5
MIN_SKIN_HAEMOGLOBIN = -30.0
MIN_SKIN_MELANIN = -60.0
MIN_IMAGE_CHROMA = 6.0
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
    white_lightness: float
    image_chroma: float
    illuminant_green: float
    illuminant_blue: float
    skin_melanin: float
    skin_haemoglobin: float
    sclera_green: float = 0.0
    sclera_blue: float = 0.0
    sclera_pixels: int = 0
    sclera_lightness: float = 0.0


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


EDGE_NORM = 6
LINEAR_LUT = np.power(10.0, -OD_LUT).astype(np.float32)  # sRGB 8-bit to linear


def illuminant(small_rgb: np.ndarray, face_points: np.ndarray) -> tuple[float, float]:
    """(green, blue) tint of the scene's light around the face, in natural log units.

    Shades-of-grey edge (van de Weijer et al. 2007, p = 6): the 6-norm of each
    linear channel's gradient estimates the light's colour, dominated by the
    strongest edges (highlights, clothing, background) rather than by a large
    uniform backdrop; the face is left out so that skin colour is not taken for
    light, and so are clipped pixels. green = log G - mean(log R, log B),
    blue = (log B - log R) / 2; both 0 for white light.
    """
    linear = LINEAR_LUT[small_rgb]
    usable = small_rgb.max(axis=2) < 250
    face = np.zeros(small_rgb.shape[:2], dtype=np.uint8)
    hull = cv2.convexHull(face_points[:, :2].astype(np.float32))
    cv2.fillConvexPoly(face, np.round(hull[:, 0, :]).astype(np.int32), 1)
    usable &= cv2.dilate(face, np.ones((5, 5), np.uint8)) == 0
    if np.count_nonzero(usable) < 100:
        usable = small_rgb.max(axis=2) < 250
    if not usable.any():
        return 0.0, 0.0
    edges = []
    for channel in cv2.split(cv2.GaussianBlur(linear, (0, 0), 1.0)):
        dx = cv2.Sobel(channel, cv2.CV_32F, 1, 0)
        dy = cv2.Sobel(channel, cv2.CV_32F, 0, 1)
        magnitude = cv2.magnitude(dx, dy)[usable] / 1e-2
        edges.append(float(np.mean(magnitude**EDGE_NORM)) ** (1.0 / EDGE_NORM))
    red, green, blue = np.log(np.maximum(edges, 1e-9))
    return float(green - (red + blue) / 2.0), float((blue - red) / 2.0)


def sclera(crop: FaceCrop) -> tuple[float, float, int, float]:
    """(green, blue, pixels, L*) of the whites of the eyes on the canonical crop.

    The eye openings between the lids, less each iris, hold sclera, lashes, lid
    rims and shadow; the brightest unclipped third of them is sclera, a near-neutral
    surface whatever the skin's tone, so its colour is the light's (green and blue
    as in illuminant()). pixels: how many were used (0: none found).
    """
    points = crop.points
    outline = np.concatenate([points[list(eye), :2] for eye in EYE_OPENINGS])
    height, width = crop.rgb.shape[:2]
    x0, y0 = np.floor(outline.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(outline.max(axis=0)).astype(int) + 2
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 0.0, 0.0, 0, 0.0
    origin = np.array([x0, y0], dtype=np.float64)
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    for eye in EYE_OPENINGS:
        polygon = np.round(points[list(eye), :2] - origin).astype(np.int32)
        cv2.fillPoly(mask, [polygon], 1)
    mask = cv2.erode(mask, np.ones((5, 5), np.uint8))
    for centre, rim in IRISES:
        middle = points[centre, :2] - origin
        radius = float(
            np.mean(np.linalg.norm(points[list(rim), :2] - origin - middle, axis=1))
        )
        cv2.circle(
            mask, tuple(int(v) for v in np.round(middle)), round(1.25 * radius), 0, -1
        )
    pixels = crop.rgb[y0:y1, x0:x1][mask > 0]
    pixels = pixels[pixels.max(axis=1) < 250]
    if len(pixels) < 10:
        return 0.0, 0.0, 0, 0.0
    linear = LINEAR_LUT[pixels]
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    bright = luminance >= np.percentile(luminance, 67)
    mean = linear[bright].mean(axis=0)
    red, green, blue = np.log(np.maximum(mean, 1e-6))
    lightness = (
        116.0 * float(np.cbrt(max(float(luminance[bright].mean()), 0.008856))) - 16.0
    )
    return (
        float(green - (red + blue) / 2.0),
        float((blue - red) / 2.0),
        int(np.count_nonzero(bright)),
        lightness,
    )


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
    clipped = float(np.count_nonzero(light >= CLIPPED_LIGHTNESS)) / max(1, light.size)
    small = cv2.resize(
        rgb,
        (256, max(1, round(256 * rgb.shape[0] / rgb.shape[1]))),
        interpolation=cv2.INTER_AREA,
    )
    whole = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    whole_light = whole[..., 0]
    whole_chroma = cv2.magnitude(whole[..., 1], whole[..., 2])
    melanin, haemoglobin = chromophores(crop.rgb[skin_union])
    tint_green, tint_blue = illuminant(small, face.points * (256 / rgb.shape[1]))
    sclera_green, sclera_blue, sclera_pixels, sclera_light = sclera(crop)
    return QualityStats(
        face_width_px=face.width,
        face_fraction=face.width / min(rgb.shape[:2]),
        yaw_deg=yaw,
        pitch_deg=pitch,
        roll_deg=roll,
        face_lightness=l_med,
        face_lightness_p95=float(np.percentile(light, 95)),
        clipped_fraction=clipped,
        skin_hue_deg=math.degrees(math.atan2(b_med, a_med)),
        skin_chroma=math.hypot(a_med, b_med),
        sharpness=sharpness(crop, lab),
        image_lightness=float(whole_light.mean()),
        white_balance_a=float(whole[..., 1].mean()),
        white_balance_b=float(whole[..., 2].mean()),
        white_lightness=float(np.percentile(whole_light, 99)),
        image_chroma=float(np.percentile(whole_chroma, 95)),
        illuminant_green=tint_green,
        illuminant_blue=tint_blue,
        skin_melanin=float(np.median(melanin)) if melanin.size else 0.0,
        skin_haemoglobin=float(np.median(haemoglobin)) if haemoglobin.size else 0.0,
        sclera_green=sclera_green,
        sclera_blue=sclera_blue,
        sclera_pixels=sclera_pixels,
        sclera_lightness=sclera_light,
    )


def _finding(code: str, passed: bool, value: float, limit: float) -> QualityFinding:
    return QualityFinding(
        code=code,
        passed=bool(passed),
        value=round(float(value), 3),
        limit=limit,
        advice=ADVICE[code],
    )


def face_count_findings(
    faces: list[Face], detected: list[Detection], image_shape: tuple[int, ...]
) -> list[QualityFinding]:
    """no_face and multiple_faces, checked before anything else is measured.

    Faces are those of the full-range detector plus any the landmarker mapped that
    the detector missed; a second face of any size fails. One face that only the
    detector saw is too small to map when it is under the size limits (so the answer
    is face_too_small, not no_face), and otherwise not a face we can analyse.
    """
    extra = sum(
        1 for face in faces if not any(d.contains(*face.centre) for d in detected)
    )
    count = len(detected) + extra
    if count == 0:
        return [_finding("no_face", False, 0, 1)]
    findings = [
        _finding("no_face", True, count, 1),
        _finding("multiple_faces", count < 2, count, 2),
    ]
    if count == 1 and not faces:
        fraction = detected[0].width / min(image_shape[:2])
        if detected[0].width >= MIN_FACE_PIXELS and fraction >= MIN_FACE_FRACTION:
            return [_finding("no_face", False, 0, 1)]
        findings.append(_finding("face_too_small", False, fraction, MIN_FACE_FRACTION))
    return findings


def sclera_trusted(stats: QualityStats) -> bool:
    """Whether the whites of the eyes were seen well enough to judge the light by."""
    return (
        stats.sclera_pixels >= MIN_SCLERA_PIXELS
        and stats.sclera_lightness >= MIN_SCLERA_LIGHTNESS
        and stats.illuminant_blue - stats.sclera_blue <= MAX_SCLERA_ORANGE_OVER_SCENE
    )


def sclera_cast_ratio(stats: QualityStats) -> float:
    """How far the sclera's green is from its usual reading to the limit (1 = at it).

    0 when the sclera is not trusted or reads as usual or more magenta.
    """
    if not sclera_trusted(stats):
        return 0.0
    span = MAX_SCLERA_GREEN - USUAL_SCLERA_GREEN
    return max(0.0, (stats.sclera_green - USUAL_SCLERA_GREEN) / span)


def cast_ratio(stats: QualityStats) -> float:
    """How far the light's tint is towards the nearest colour-cast limit (1 = at it).

    The scene's light around the face, and the sclera's green where it is trusted.
    """
    scene = max(
        stats.illuminant_green / MAX_ILLUMINANT_GREEN,
        stats.illuminant_blue / MAX_ILLUMINANT_BLUE,
        -stats.illuminant_blue / MAX_ILLUMINANT_ORANGE,
        0.0,
    )
    return max(scene, sclera_cast_ratio(stats))


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
        stats.white_lightness < MIN_WHITE_LIGHTNESS
        or stats.face_lightness < MIN_FACE_MEDIAN_LIGHTNESS
    )
    bright = (
        stats.clipped_fraction > MAX_CLIPPED_FRACTION
        or stats.face_lightness > MAX_FACE_MEDIAN_LIGHTNESS
    )
    cast = (
        stats.image_chroma < MIN_IMAGE_CHROMA
        or cast_ratio(stats) > 1.0
        or stats.skin_haemoglobin < MIN_SKIN_HAEMOGLOBIN
        or stats.skin_melanin < MIN_SKIN_MELANIN
    )
    return [
        _finding("face_too_small", size_ok, stats.face_fraction, MIN_FACE_FRACTION),
        _finding("head_pose", pose <= 1.0, pose, 1.0),
        _finding("too_dark", not dark, stats.white_lightness, MIN_WHITE_LIGHTNESS),
        _finding(
            "overexposed", not bright, stats.clipped_fraction, MAX_CLIPPED_FRACTION
        ),
        _finding(
            "blurred", stats.sharpness >= MIN_SHARPNESS, stats.sharpness, MIN_SHARPNESS
        ),
        _finding(
            "colour_cast",
            not cast,
            cast_ratio(stats),
            1.0,
        ),
    ]


# Skin tone (ITA) is read as if the scene's near-white (the image's 99th percentile
# of L*) sat at L* 95: a re-shot one stop darker or brighter then gives the same
# ITA. A scene without anything near white, or a clipped white, cannot pin the
# exposure; the correction is bounded and the tone's confidence says so.
WHITE_TARGET_LIGHTNESS = 95.0
MAX_EXPOSURE_GAIN = 2.0
CLIPPED_WHITE_CONFIDENCE = 0.6


def _luminance(lightness: float) -> float:
    """CIE Y (white = 1) of an L*."""
    return lab_f_inverse((lightness + 16.0) / 116.0)


def exposure_gain(stats: QualityStats) -> tuple[float, float]:
    """(light gain that brings the scene's white to the target, its confidence 0-1)."""
    if stats.white_lightness >= CLIPPED_LIGHTNESS:
        return 1.0, CLIPPED_WHITE_CONFIDENCE
    wanted = _luminance(WHITE_TARGET_LIGHTNESS) / max(
        _luminance(stats.white_lightness), 1e-3
    )
    gain = min(wanted, MAX_EXPOSURE_GAIN)
    # 1 when the white needed no correction, 0.6 at the largest one, 0.5 beyond.
    confidence = 1.0 - 0.4 * (gain - 1.0) / (MAX_EXPOSURE_GAIN - 1.0)
    if wanted > MAX_EXPOSURE_GAIN:
        confidence = 0.5
    return gain, min(1.0, confidence)


def tone_confidence(stats: QualityStats, exposure: float, b_star: float) -> float:
    """Confidence in the skin tone: exposure pinned, a clear b*, no tint near a limit.

    ITA's angle swings with small b* changes when skin b* is near 0 (cool light).
    """
    clear_b = float(np.clip(abs(b_star) / 10.0, 0.3, 1.0))
    tint = 1.0 - 0.3 * min(1.0, cast_ratio(stats))
    return round(float(np.clip(exposure * clear_b * tint, 0.0, 1.0)), 2)


def quality_factor(stats: QualityStats) -> float:
    """0-1 multiplier for confidence: 1 well inside every limit, lower near them."""
    sharp = min(1.0, stats.sharpness / (2.0 * MIN_SHARPNESS))
    size = min(1.0, stats.face_fraction / (1.5 * MIN_FACE_FRACTION))
    light = min(1.0, (stats.white_lightness - MIN_WHITE_LIGHTNESS) / 20.0 + 0.5)
    turn = max(abs(stats.yaw_deg) / MAX_YAW_DEG, abs(stats.pitch_deg) / MAX_PITCH_DEG)
    pose = 1.0 - 0.5 * turn**2
    return float(
        np.clip(min(sharp, size, light, pose, 1.0 - stats.clipped_fraction), 0.0, 1.0)
    )
