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
    scaled = np.multiply(rgb, np.float32(1.0 / 255.0), dtype=np.float32)
    return cv2.cvtColor(scaled, cv2.COLOR_RGB2Lab, dst=scaled)  # in place


def lab_planes(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """L*, a*, b* as three contiguous float32 images (faster than strided views)."""
    light, a_star, b_star = cv2.split(lab)
    return light, a_star, b_star


def _window(mask: np.ndarray, pad: int) -> tuple[slice, slice]:
    """Bounding box of a mask grown by pad pixels, clamped to the image."""
    height, width = mask.shape
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
    if w == 0 or h == 0:
        return slice(0, height), slice(0, width)
    return (
        slice(max(0, y - pad), min(height, y + h + pad)),
        slice(max(0, x - pad), min(width, x + w + pad)),
    )


def _reference(
    planes: tuple[np.ndarray, np.ndarray, np.ndarray], union: np.ndarray
) -> SkinReference:
    centre, spread = [], []
    for plane in planes:
        values = plane[union]  # a fresh copy: the medians may reorder it in place
        middle = np.median(values, overwrite_input=True)
        centre.append(middle)
        np.abs(np.subtract(values, middle, out=values), out=values)
        spread.append(1.4826 * np.median(values, overwrite_input=True))
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


def skin_reference(
    lab: np.ndarray,
    union: np.ndarray,
    planes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> SkinReference:
    """Median colour and robust L* spread over the union of all regions.

    planes (lab_planes(lab)) may be passed when already split.
    """
    if planes is not None:
        return _reference(planes, union)
    rows, cols = _window(union, 0)
    planes = lab_planes(np.ascontiguousarray(lab[rows, cols]))
    return _reference(planes, union[rows, cols])


def _skin_masks(
    planes: tuple[np.ndarray, np.ndarray, np.ndarray],
    polygons: dict[str, np.ndarray],
    ref: SkinReference,
    chroma: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    light, a_star, b_star = planes
    if chroma is None:
        chroma = cv2.magnitude(a_star, b_star)
    highlight = (light > ref.lightness + 5.0) & (chroma < ref.chroma)
    redder_ok = a_star >= ref.a - max(A_TOLERANCE, 2.5 * ref.a_spread)
    b_offset = np.abs(b_star - ref.b)
    closed: dict[bool, np.ndarray] = {}
    masks = {}
    for name, polygon in polygons.items():
        under_eye = name in UNDER_EYES
        if under_eye not in closed:
            dark = UNDER_EYE_DARK_TOLERANCE if under_eye else SKIN_DARK_TOLERANCE
            b_tol = max(
                UNDER_EYE_B_TOLERANCE if under_eye else B_TOLERANCE,
                2.5 * ref.b_spread,
            )
            colour_ok = (b_offset <= b_tol) & redder_ok
            raw = ((light >= ref.lightness - dark) & colour_ok) | highlight
            closed[under_eye] = _close(raw, HOLE_RADIUS)
        masks[name] = polygon & closed[under_eye]
    return masks


def skin_masks(
    lab: np.ndarray, polygons: dict[str, np.ndarray], ref: SkinReference
) -> dict[str, np.ndarray]:
    """Per region, pixels whose colour is plausibly skin given the face reference.

    Hair, brows, lashes and deep shadow are darker than the face's median skin and
    hair is usually more yellow (b*); redder skin is kept (that is what redness and
    blemishes measure), and so are specular highlights (brighter, less saturated).
    """
    return _skin_masks(lab_planes(lab), polygons, ref)


def _close(mask: np.ndarray, radius: int) -> np.ndarray:
    """Fill holes narrower than about 2*radius (wrinkles, spots) inside a mask."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    return cv2.morphologyEx(mask.view(np.uint8), cv2.MORPH_CLOSE, kernel).view(bool)


def _erode(mask: np.ndarray, radius: int = 3) -> np.ndarray:
    """Shrink a mask so filters do not respond to its edges."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    return cv2.erode(mask.view(np.uint8), kernel).view(bool)


def _shrink(values: np.ndarray) -> np.ndarray:
    """The 4x smaller image large-sigma blurs run on."""
    height, width = values.shape
    return cv2.resize(
        values, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA
    )


def _blur_small(small: np.ndarray, sigma: float, shape: tuple[int, int]) -> np.ndarray:
    """Blur a _shrink()-ed image with sigma (full-size pixels) and scale it back."""
    small = cv2.GaussianBlur(small, (0, 0), sigma / 4.0)
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _blur(values: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; large sigmas run on a 4x smaller image (near-same, faster)."""
    if sigma < 6.0:
        return cv2.GaussianBlur(values, (0, 0), sigma)
    return _blur_small(_shrink(values), sigma, values.shape)


def _masked_blurs(
    values: np.ndarray, mask: np.ndarray, sigmas: tuple[float, ...]
) -> list[np.ndarray]:
    """Gaussian blurs using only masked pixels (normalised convolution).

    For several large sigmas the products are shrunk once and shared.
    """
    weight = mask.astype(np.float32)
    product = values * weight
    if all(sigma >= 6.0 for sigma in sigmas):
        small_num, small_den = _shrink(product), _shrink(weight)
        nums = [_blur_small(small_num, s, values.shape) for s in sigmas]
        dens = [_blur_small(small_den, s, values.shape) for s in sigmas]
    else:
        nums = [_blur(product, s) for s in sigmas]
        dens = [_blur(weight, s) for s in sigmas]
    return [num / np.maximum(den, 1e-3) for num, den in zip(nums, dens, strict=True)]


def _masked_blur(values: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur using only masked pixels (normalised convolution)."""
    return _masked_blurs(values, mask, (sigma,))[0]


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
        dxx = cv2.Sobel(smooth, cv2.CV_32F, 2, 0, ksize=3, scale=0.25)
        dyy = cv2.Sobel(smooth, cv2.CV_32F, 0, 2, ksize=3, scale=0.25)
        dxy = cv2.Sobel(smooth, cv2.CV_32F, 1, 1, ksize=3, scale=0.25)
        root = np.sqrt((dxx - dyy) ** 2 + 4.0 * dxy**2)
        largest = 0.5 * (dxx + dyy + root)
        np.maximum(response, sigma**2 * np.maximum(largest, 0.0), out=response)
    return response


def _blobs(
    binary: np.ndarray, area: tuple[int, int], max_elongation: float = 4.0
) -> np.ndarray:
    """Keep connected components within an area range that are not long and thin."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(
        binary.view(np.uint8), connectivity=8
    )
    size = stats[:, cv2.CC_STAT_AREA]
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    elongated = np.maximum(w, h) > max_elongation * np.maximum(1, np.minimum(w, h))
    sparse = size < MIN_FILL * w * h
    keep = (area[0] <= size) & (size <= area[1]) & ~elongated & ~sparse
    keep[0] = False
    if not keep.any():
        return np.zeros(binary.shape, dtype=bool)
    return keep[labels]


def _mean(values: np.ndarray, mask: np.ndarray) -> float | None:
    """Mean of values under mask, or None when the mask is empty."""
    return float(values[mask].mean()) if mask.any() else None


def _overall(per_region: RegionValues, names: tuple[str, ...]) -> float | None:
    """Average of the regions that have a value (each region counts once)."""
    values = [per_region[n] for n in names if per_region.get(n) is not None]
    return float(np.mean(values)) if values else None


# Every filter below reaches at most ~10 px (close radius 5 twice, Gaussian sigma
# 2.4), so pixels this far outside the regions cannot change any measurement; the
# sigma 8-25 blurs are normalised by a mask that is zero there and run on the crop.
WINDOW_MARGIN = 16
REGION_MARGIN = 6


def measure(
    crop: FaceCrop,
    *,
    lab: np.ndarray | None = None,
    planes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    polygons: dict[str, np.ndarray] | None = None,
    reference: SkinReference | None = None,
) -> Measurements:
    """All raw metrics for one canonical face crop.

    lab (to_lab of crop.rgb), its planes, the region polygons and the reference may
    be passed in when already computed for the same crop (the pipeline's quality
    stage needs them too); the results are identical.
    """
    if planes is None:
        planes = lab_planes(to_lab(crop.rgb) if lab is None else lab)
    full_light, full_a, full_b = planes
    if polygons is None:
        polygons = region_masks(crop.points, full_light.shape)
    full_union = np.logical_or.reduce(list(polygons.values()))
    # Work on the regions' bounding box (plus a margin wider than any local filter).
    rows, cols = _window(full_union, WINDOW_MARGIN)
    light, a_star, b_star = (
        full_light[rows, cols],
        full_a[rows, cols],
        full_b[rows, cols],
    )
    planes = (light, a_star, b_star)
    polygons = {name: mask[rows, cols] for name, mask in polygons.items()}
    union = full_union[rows, cols]
    ref = reference if reference is not None else _reference(planes, union)
    chroma = cv2.magnitude(a_star, b_star)
    skin = _skin_masks(planes, polygons, ref, chroma)
    areas = {name: int(np.count_nonzero(polygons[name])) for name in REGION_NAMES}
    usable = {
        name: float(np.count_nonzero(skin[name]) / max(1, areas[name]))
        for name in REGION_NAMES
    }
    ok = {name: usable[name] >= MIN_USABLE_FRACTION for name in REGION_NAMES}
    all_skin = np.logical_or.reduce([skin[n] for n in REGION_NAMES if ok[n]] or [union])
    result = Measurements(reference=ref, usable=usable)

    # Soft membership (0-1) so pixels near the thresholds do not flip between shots.
    light_edge = ref.lightness + max(8.0, 0.35 * (100.0 - ref.lightness))
    shine_weight = np.clip((light - light_edge) / 6.0 + 0.5, 0.0, 1.0) * np.clip(
        (SPECULAR_CHROMA * ref.chroma - chroma) / (0.3 * ref.chroma) + 0.5, 0.0, 1.0
    )
    specular = shine_weight >= 0.5
    not_specular = ~specular
    matte = {n: skin[n] & not_specular for n in REGION_NAMES}

    fine = cv2.GaussianBlur(light, (0, 0), 0.6) - cv2.GaussianBlur(light, (0, 0), 2.4)
    # Ridges are only read on the line regions: filter just their window.
    line_union = np.logical_or.reduce([polygons[n] for n in LINE_REGIONS])
    line_rows, line_cols = _window(line_union, WINDOW_MARGIN)
    ridges = np.zeros(light.shape, dtype=np.float32)
    ridges[line_rows, line_cols] = dark_ridges(light[line_rows, line_cols])
    # The large masked blurs run on the whole crop, as before, so that their 4x
    # shrink uses the same pixel grid; only the window is kept.
    weight = np.zeros(full_light.shape, dtype=bool)
    weight[rows, cols] = all_skin & not_specular
    base, smooth = (
        blurred[rows, cols]
        for blurred in _masked_blurs(full_light, weight, (10.0, 25.0))
    )
    weight[rows, cols] = all_skin
    a_excess = a_star - _masked_blur(full_a, weight, 8.0)[rows, cols]
    depth = base - light
    core = _erode(all_skin, 3)
    near_shine = cv2.dilate(specular.view(np.uint8), np.ones((7, 7), np.uint8)) > 0
    brownish = a_excess < 0.5 * BLEMISH_MIN_EXCESS
    spots = _blobs(
        (depth > SPOT_MIN_DEPTH) & core & ~near_shine & brownish, SPOT_AREA, 3.0
    )
    flat = light - smooth
    blemish = _blobs((a_excess > BLEMISH_MIN_EXCESS) & core, BLEMISH_AREA, 3.0)
    blemish_count, _ = cv2.connectedComponents(blemish.view(np.uint8))

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
        # Each region's numbers only need its own bounding box (erosions see the
        # zero margin around the polygon, as they would on the whole crop).
        box = _window(polygons[name], REGION_MARGIN)
        region = skin[name][box]
        flat_matte = matte[name][box]
        redness[name] = _mean(a_star[box], flat_matte)
        shine[name] = float(shine_weight[box][region].mean())
        inner = _erode(flat_matte, 2)
        texture[name] = (
            float(1.4826 * np.median(np.abs(fine[box][inner]), overwrite_input=True))
            if inner.any()
            else None
        )
        pigment[name] = float(100.0 * spots[box][region].mean())
        light_box = light[box]
        values = flat[box][flat_matte]
        high, low = np.percentile(values, [90, 10], overwrite_input=True)
        spread[name] = float(high - low)
        if name in LINE_REGIONS:
            lines[name] = _mean(ridges[box], _erode(flat_matte, 4))
        else:
            lines[name] = None
        lightness[name] = float(np.median(light_box[flat_matte], overwrite_input=True))
        spots_here, _ = cv2.connectedComponents((blemish[box] & region).view(np.uint8))
        blemishes[name] = float(
            (spots_here - 1) * 1e5 / max(1, int(np.count_nonzero(region)))
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

    total_skin = max(1, int(np.count_nonzero(all_skin)))
    result.overall = {
        "redness": _overall(redness, REDNESS_REGIONS),
        "shine": _overall(shine, T_ZONE),
        "texture": _overall(texture, TEXTURE_REGIONS),
        "pigmentation": _overall(pigment, PIGMENT_REGIONS),
        "lines": _overall(lines, LINE_REGIONS),
        "dark_circles": _overall(circles, UNDER_EYES),
        "blemishes": float((blemish_count - 1) * 1e5 / total_skin),
    }
    tone_parts = [matte[n] for n in ("forehead", *CHEEKS) if ok[n]]
    if tone_parts:
        tone = np.logical_or.reduce(tone_parts)
        if tone.any():
            l_med = float(np.median(light[tone]))
            a_med = float(np.median(a_star[tone]))
            b_med = float(np.median(b_star[tone]))
            result.skin_lab = (l_med, a_med, b_med)
            result.ita_deg = math.degrees(math.atan2(l_med - 50.0, b_med))
    return result
