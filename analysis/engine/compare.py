"""Comparing two analyses: lighting comparability and measured test-retest noise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Largest differences between two photos' `image` stats still called "same lighting".
MAX_FACE_LIGHTNESS_DIFF = 8.0
MAX_SKIN_HUE_DIFF_DEG = 6.0
MAX_WHITE_BALANCE_DIFF = 6.0

# 95th percentile of |score difference| between pairs of perturbed re-shots of one
# real face (shift +-10 px, scale, JPEG quality 70-95, brightness +-6%), 0-100 scale.
# Measured with `.venv/bin/python bench/engine_noise.py` (40 shots, seed 7) on
# 2026-11-29. Only one subject (skimage astronaut): dark_circles and blemishes sat at
# a score of 0 there, so their 0 is a floor effect, not proof of stability.
TEST_RETEST_NOISE: dict[str, float] = {
    "redness": 3.0,
    "shine": 11.0,
    "texture": 2.0,
    "pigmentation": 10.0,
    "lines": 4.0,
    "dark_circles": 0.0,
    "blemishes": 0.0,
}
NOISE_FLOOR = 3.0


def retest_noise(concern: str) -> float:
    """Score change (0-100) re-taking the same photo can cause; at least NOISE_FLOOR."""
    return max(TEST_RETEST_NOISE[concern], NOISE_FLOOR)


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
