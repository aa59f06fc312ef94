"""Raw per-region skin measurements on the canonical face crop (CIELAB, D65).

All lengths are pixels of the canonical crop, where the face is 512 px wide, so the
same face photographed at another resolution gives the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from .regions import CHEEKS, REGION_NAMES, T_ZONE, UNDER_EYES, FaceCrop, region_masks

SKIN_DARK_TOLERANCE = 18.0
UNDER_EYE_DARK_TOLERANCE = 30.0
A_TOLERANCE = 6.0
B_TOLERANCE = 6.0
UNDER_EYE_B_TOLERANCE = 10.0
MIN_USABLE_FRACTION = 0.25
HOLE_RADIUS = 5
TEXTURE_REGIONS = ("forehead", *CHEEKS, "nose_hull", "chin")
PIGMENT_REGIONS = ("forehead", *CHEEKS, "chin")
REDNESS_REGIONS = ("forehead", *CHEEKS, "nose_hull", "chin")
LINE_REGIONS = ("forehead", *UNDER_EYES)
SPOT_MIN_DEPTH = 5.0
SPOT_AREA = (6, 600)
MIN_FILL = 0.35
SPECULAR_CHROMA = 0.6
BLEMISH_MIN_EXCESS = 6.0
BLEMISH_AREA = (8, 400)
RIDGE_SIGMAS = (1.0, 2.0)

RegionValues = dict[str, float | None]


@dataclass(frozen=True)
class SkinReference:
    """Robust whole-face skin colour: medians and spread over all regions."""

    lightness: float
    a: float
    b: float
    lightness_spread: float
    a_spread: float
    b_spread: float
    chroma: float


@dataclass
class Measurements:
    """Raw metric values per concern: overall value and per-region values."""

    reference: SkinReference
    usable: dict[str, float]
    overall: dict[str, float | None] = field(default_factory=dict)
    regions: dict[str, RegionValues] = field(default_factory=dict)
    ita_deg: float | None = None
    skin_lab: tuple[float, float, float] | None = None


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 to float32 CIELAB (L* 0-100) via OpenCV."""
    return cv2.cvtColor(rgb.astype(np.float32) * (1.0 / 255.0), cv2.COLOR_RGB2Lab)


def skin_reference(lab: np.ndarray, union: np.ndarray) -> SkinReference:
    """Median colour and robust L* spread over the union of all regions."""
    pixels = lab[union]
    centre = np.median(pixels, axis=0)
    spread = 1.4826 * np.median(np.abs(pixels - centre), axis=0)
    light, a, b = (float(v) for v in centre)
    return SkinReference(
        lightness=light,
        a=a,
        b=b,
        lightness_spread=float(spread[0]),
        a_spread=float(spread[1]),
        b_spread=float(spread[2]),
        chroma=math.hypot(a, b),
    )


def skin_masks(
    lab: np.ndarray, polygons: dict[str, np.ndarray], ref: SkinReference
) -> dict[str, np.ndarray]:
    """Per region, pixels whose colour is plausibly skin given the face reference.

    Hair, brows, lashes and deep shadow are darker than the face's median skin and
    hair is usually more yellow (b*); redder skin is kept (that is what redness and
    blemishes measure), and so are specular highlights (brighter, less saturated).
    """
    light, a_star, b_star = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.hypot(a_star, b_star)
    highlight = (light > ref.lightness + 5.0) & (chroma < ref.chroma)
    redder_ok = a_star >= ref.a - max(A_TOLERANCE, 2.5 * ref.a_spread)
    masks = {}
    for name, polygon in polygons.items():
        under_eye = name in UNDER_EYES
        dark = UNDER_EYE_DARK_TOLERANCE if under_eye else SKIN_DARK_TOLERANCE
        b_tol = max(
            UNDER_EYE_B_TOLERANCE if under_eye else B_TOLERANCE, 2.5 * ref.b_spread
        )
        colour_ok = (np.abs(b_star - ref.b) <= b_tol) & redder_ok
        raw = ((light >= ref.lightness - dark) & colour_ok) | highlight
        masks[name] = polygon & _close(raw, HOLE_RADIUS)
    return masks


def _close(mask: np.ndarray, radius: int) -> np.ndarray:
    """Fill holes narrower than about 2*radius (wrinkles, spots) inside a mask."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    return cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, kernel).astype(bool)


def _erode(mask: np.ndarray, radius: int = 3) -> np.ndarray:
    """Shrink a mask so filters do not respond to its edges."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    return cv2.erode(mask.astype(np.uint8), kernel).astype(bool)


def _blur(values: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; large sigmas run on a 4x smaller image (near-same, faster)."""
    if sigma < 6.0:
        return cv2.GaussianBlur(values, (0, 0), sigma)
    height, width = values.shape
    small = cv2.resize(
        values, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA
    )
    small = cv2.GaussianBlur(small, (0, 0), sigma / 4.0)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _masked_blur(values: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur using only masked pixels (normalised convolution)."""
    weight = mask.astype(np.float32)
    num = _blur(values * weight, sigma)
    den = _blur(weight, sigma)
    return num / np.maximum(den, 1e-3)


def dark_ridges(
    light: np.ndarray, sigmas: tuple[float, ...] = RIDGE_SIGMAS
) -> np.ndarray:
    """Sato-style dark-line response: largest Hessian eigenvalue, scale-normalised.

    Same idea as skimage.filters.sato(black_ridges=True) but built on OpenCV
    filters, about ten times faster on a face crop.
    """
    response = np.zeros_like(light, dtype=np.float32)
    for sigma in sigmas:
        smooth = cv2.GaussianBlur(light, (0, 0), sigma)
        dxx = cv2.Sobel(smooth, cv2.CV_32F, 2, 0, ksize=3) / 4.0
        dyy = cv2.Sobel(smooth, cv2.CV_32F, 0, 2, ksize=3) / 4.0
        dxy = cv2.Sobel(smooth, cv2.CV_32F, 1, 1, ksize=3) / 4.0
        root = np.sqrt((dxx - dyy) ** 2 + 4.0 * dxy**2)
        largest = 0.5 * (dxx + dyy + root)
        np.maximum(response, sigma**2 * np.maximum(largest, 0.0), out=response)
    return response


def _blobs(
    binary: np.ndarray, area: tuple[int, int], max_elongation: float = 4.0
) -> np.ndarray:
    """Keep connected components within an area range that are not long and thin."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        binary.astype(np.uint8), connectivity=8
    )
    keep = np.zeros(count, dtype=bool)
    for index in range(1, count):
        size = stats[index, cv2.CC_STAT_AREA]
        w, h = stats[index, cv2.CC_STAT_WIDTH], stats[index, cv2.CC_STAT_HEIGHT]
        elongated = max(w, h) > max_elongation * max(1, min(w, h))
        sparse = size < MIN_FILL * w * h
        keep[index] = area[0] <= size <= area[1] and not elongated and not sparse
    return keep[labels]


def _mean(values: np.ndarray, mask: np.ndarray) -> float | None:
    """Mean of values under mask, or None when the mask is empty."""
    return float(values[mask].mean()) if mask.any() else None


def _overall(per_region: RegionValues, names: tuple[str, ...]) -> float | None:
    """Average of the regions that have a value (each region counts once)."""
    values = [per_region[n] for n in names if per_region.get(n) is not None]
    return float(np.mean(values)) if values else None


def measure(crop: FaceCrop) -> Measurements:
    """All raw metrics for one canonical face crop."""
    lab = to_lab(crop.rgb)
    light = lab[..., 0]
    polygons = region_masks(crop.points, light.shape)
    union = np.logical_or.reduce(list(polygons.values()))
    ref = skin_reference(lab, union)
    skin = skin_masks(lab, polygons, ref)
    usable = {
        name: float(skin[name].sum() / max(1, polygons[name].sum()))
        for name in REGION_NAMES
    }
    ok = {name: usable[name] >= MIN_USABLE_FRACTION for name in REGION_NAMES}
    all_skin = np.logical_or.reduce([skin[n] for n in REGION_NAMES if ok[n]] or [union])
    result = Measurements(reference=ref, usable=usable)

    chroma = np.hypot(lab[..., 1], lab[..., 2])
    # Soft membership (0-1) so pixels near the thresholds do not flip between shots.
    light_edge = ref.lightness + max(8.0, 0.35 * (100.0 - ref.lightness))
    shine_weight = np.clip((light - light_edge) / 6.0 + 0.5, 0.0, 1.0) * np.clip(
        (SPECULAR_CHROMA * ref.chroma - chroma) / (0.3 * ref.chroma) + 0.5, 0.0, 1.0
    )
    specular = shine_weight >= 0.5
    matte = {n: skin[n] & ~specular for n in REGION_NAMES}

    fine = cv2.GaussianBlur(light, (0, 0), 0.6) - cv2.GaussianBlur(light, (0, 0), 2.4)
    ridges = dark_ridges(light)
    base = _masked_blur(light, all_skin & ~specular, 10.0)
    depth = base - light
    core = _erode(all_skin, 3)
    near_shine = cv2.dilate(specular.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    a_star = lab[..., 1]
    a_excess = a_star - _masked_blur(a_star, all_skin, 8.0)
    brownish = a_excess < 0.5 * BLEMISH_MIN_EXCESS
    spots = _blobs(
        (depth > SPOT_MIN_DEPTH) & core & ~near_shine & brownish, SPOT_AREA, 3.0
    )
    flat = light - _masked_blur(light, all_skin & ~specular, 25.0)
    blemish = _blobs((a_excess > BLEMISH_MIN_EXCESS) & core, BLEMISH_AREA, 3.0)
    blemish_count, _ = cv2.connectedComponents(blemish.astype(np.uint8))

    redness: RegionValues = {}
    shine: RegionValues = {}
    texture: RegionValues = {}
    pigment: RegionValues = {}
    spread: RegionValues = {}
    lines: RegionValues = {}
    blemishes: RegionValues = {}
    lightness: RegionValues = {}
    for name in REGION_NAMES:
        if not ok[name]:
            for table in (redness, shine, texture, pigment, spread, lines, lightness):
                table[name] = None
            blemishes[name] = None
            continue
        region = skin[name]
        redness[name] = _mean(a_star, matte[name])
        shine[name] = float(shine_weight[region].mean())
        inner = _erode(matte[name], 2)
        texture[name] = (
            float(1.4826 * np.median(np.abs(fine[inner]))) if inner.any() else None
        )
        pigment[name] = float(100.0 * spots[region].mean())
        values = flat[matte[name]]
        spread[name] = float(np.subtract(*np.percentile(values, [90, 10])))
        inner = _erode(matte[name], 4)
        lines[name] = _mean(ridges, inner) if name in LINE_REGIONS else None
        lightness[name] = float(np.median(light[matte[name]]))
        _, comp = cv2.connectedComponents((blemish & region).astype(np.uint8))
        blemishes[name] = float(
            len(np.unique(comp[blemish & region])) * 1e5 / max(1, region.sum())
        )

    result.regions = {
        "redness": {n: redness[n] for n in REDNESS_REGIONS},
        "shine": shine,
        "texture": {n: texture[n] for n in TEXTURE_REGIONS},
        "pigmentation": {n: pigment[n] for n in PIGMENT_REGIONS},
        "pigment_spread": {n: spread[n] for n in PIGMENT_REGIONS},
        "lines": {n: lines[n] for n in LINE_REGIONS},
        "blemishes": {n: blemishes[n] for n in REDNESS_REGIONS},
        "lightness": lightness,
    }
    circles: RegionValues = {}
    for cheek, eye in zip(CHEEKS, UNDER_EYES, strict=True):
        if lightness[cheek] is not None and lightness[eye] is not None:
            circles[eye] = lightness[cheek] - lightness[eye]
        else:
            circles[eye] = None
    result.regions["dark_circles"] = circles

    total_skin = max(1, int(all_skin.sum()))
    result.overall = {
        "redness": _overall(redness, REDNESS_REGIONS),
        "shine": _overall(shine, T_ZONE),
        "texture": _overall(texture, TEXTURE_REGIONS),
        "pigmentation": _overall(pigment, PIGMENT_REGIONS),
        "lines": _overall(lines, LINE_REGIONS),
        "dark_circles": _overall(circles, UNDER_EYES),
        "blemishes": float((blemish_count - 1) * 1e5 / total_skin),
    }
    tone = np.logical_or.reduce(
        [matte[n] for n in ("forehead", *CHEEKS) if ok[n]] or []
    )
    if isinstance(tone, np.ndarray) and tone.any():
        l_med = float(np.median(light[tone]))
        a_med = float(np.median(a_star[tone]))
        b_med = float(np.median(lab[..., 2][tone]))
        result.skin_lab = (l_med, a_med, b_med)
        result.ita_deg = math.degrees(math.atan2(l_med - 50.0, b_med))
    return result
