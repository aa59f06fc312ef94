"""Comparing two analyses: lighting comparability and measured test-retest noise."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

# Largest differences between two photos' `image` stats still called "same lighting".
MAX_FACE_LIGHTNESS_DIFF = 8.0
MAX_SKIN_HUE_DIFF_DEG = 6.0
MAX_WHITE_BALANCE_DIFF = 6.0

# 95th percentile of |score change| between a photo and its re-takes (mirror flip,
# JPEG q95 and q60, small re-crops with exposure jitter) over every face of the
# evaluation set, and at least that of the re-crops alone, 0-100 scale; generated
# by `make evaluate`
# (`.venv/bin/python bench/evaluate.py --write --write-noise`), report in
# analysis/engine/EVALUATION.md.
# BEGIN generated noise (bench/evaluate.py --write-noise)
TEST_RETEST_NOISE: dict[str, float] = {
    "redness": 2.3,
    "shine": 2.0,
    "texture": 3.0,
    "pigmentation": 1.0,
    "lines": 4.3,
    "dark_circles": 3.0,
    "blemishes": 0.6,
}
# END generated noise
NOISE_FLOOR = 3.0


# Noise grows on smaller faces (fewer pixels per pore, spot or line) and when a
# concern was measured on less skin or in poorer light (lower confidence).
# REFERENCE_FACE_WIDTH is about the median face width (analysis-scale pixels) of the
# evaluation set the noise was measured on.
REFERENCE_FACE_WIDTH = 250.0
MAX_SIZE_FACTOR = 2.0
MIN_CONFIDENCE_FOR_NOISE = 0.5


def retest_noise(concern: str) -> float:
    """Score change (0-100) re-taking the same photo can cause; at least NOISE_FLOOR."""
    return max(TEST_RETEST_NOISE[concern], NOISE_FLOOR)


def scaled_noise(
    concern: str,
    *,
    face_width_px: float | None = None,
    confidence: float | None = None,
    base: float | None = None,
) -> float:
    """retest_noise for one photo, grown for a small face and a low confidence.

    base replaces the published noise (the evaluation judges with its own).
    """
    noise = retest_noise(concern) if base is None else max(base, NOISE_FLOOR)
    size = 1.0
    if face_width_px:
        ratio = math.sqrt(REFERENCE_FACE_WIDTH / face_width_px)
        size = min(max(ratio, 1.0), MAX_SIZE_FACTOR)
    trust = 1.0
    if confidence is not None:
        trust = 1.0 / min(max(confidence, MIN_CONFIDENCE_FOR_NOISE), 1.0)
    return round(noise * size * trust, 1)


def pair_noise(
    concern: str, photos: Iterable[Mapping[str, Any]], *, base: float | None = None
) -> float:
    """Noise of a change between photos: the largest of their scaled_noise.

    Each photo: {"face_width_px": float | None, "confidence": float | None}.
    """
    return max(
        scaled_noise(
            concern,
            face_width_px=photo.get("face_width_px"),
            confidence=photo.get("confidence"),
            base=base,
        )
        for photo in photos
    )


def _image_stats(analysis: Mapping[str, Any]) -> Mapping[str, Any]:
    """Accept a PhotoAnalysis.to_dict() or just its 'image' part."""
    image = analysis.get("image", analysis)
    if not isinstance(image, Mapping) or "face_lightness" not in image:
        raise ValueError("analysis has no image statistics")
    return image


def lighting_comparable(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """True when two analyses were taken in similar light (brightness and colour)."""
    first, second = _image_stats(a), _image_stats(b)
    return (
        abs(first["face_lightness"] - second["face_lightness"])
        <= MAX_FACE_LIGHTNESS_DIFF
        and abs(first["skin_hue_deg"] - second["skin_hue_deg"]) <= MAX_SKIN_HUE_DIFF_DEG
        and abs(first["white_balance_a"] - second["white_balance_a"])
        <= MAX_WHITE_BALANCE_DIFF
        and abs(first["white_balance_b"] - second["white_balance_b"])
        <= MAX_WHITE_BALANCE_DIFF
    )
