"""Raw metric to 0-100 score, band, severity, confidence and plain-words explanation.

Direction: every score is "more of the concern" (higher is worse). The anchors are
piecewise-linear and documented, with their sources, in CALIBRATION.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Anchors = Sequence[tuple[float, float]]

CONCERNS = (
    "redness",
    "shine",
    "texture",
    "pigmentation",
    "lines",
    "dark_circles",
    "blemishes",
)

ANCHORS: dict[str, Anchors] = {
    "redness": ((6.0, 0), (10.0, 15), (13.0, 35), (16.0, 55), (20.0, 80), (25.0, 100)),
    "shine": ((0.01, 0), (0.03, 15), (0.06, 35), (0.10, 55), (0.16, 80), (0.25, 100)),
    "texture": ((0.3, 0), (0.6, 20), (1.0, 45), (1.6, 70), (2.5, 100)),
    "pigmentation": ((0.5, 0), (1.5, 25), (3.0, 50), (6.0, 75), (10.0, 100)),
    "lines": ((0.25, 0), (0.4, 25), (0.6, 50), (0.9, 75), (1.3, 100)),
    "dark_circles": (
        (1.0, 0),
        (3.0, 15),
        (6.0, 40),
        (10.0, 65),
        (15.0, 90),
        (20.0, 100),
    ),
    "blemishes": ((0.5, 0), (2.0, 25), (5.0, 50), (10.0, 75), (20.0, 100)),
}
UNITS = {
    "redness": "CIELAB a*",
    "shine": "fraction of T-zone skin with specular highlights",
    "texture": "robust s.d. of fine-detail L* (canonical 512 px face)",
    "pigmentation": "% of skin in small dark spots",
    "lines": "mean dark-ridge response (Hessian, sigma 1-2 px)",
    "dark_circles": "L* of cheeks minus L* under the eyes",
    "blemishes": "small red spots per 100,000 skin pixels",
}
BANDS = ((25, "low"), (50, "moderate"), (75, "high"), (101, "severe"))
SEVERE_AT = 75

EXPLANATIONS = {
    "redness": "We measured how red your skin looks (CIELAB a*, a standard colour "
    "scale) on the forehead, cheeks, nose and chin. The average was {value:.1f}; "
    "higher values mean redder skin.",
    "shine": "We measured shiny highlights, which come from oil on the skin, on the "
    "forehead, nose and chin: {percent:.0f}% of that skin showed shine.",
    "texture": "We measured fine detail in the skin's brightness (pores, roughness) "
    "on the forehead, cheeks, nose and chin: {value:.2f} units. Smoother skin scores "
    "lower; soft or low-resolution photos also read smoother.",
    "pigmentation": "We looked for small spots darker than the skin around them on "
    "the forehead, cheeks and chin: they cover {value:.1f}% of that skin.",
    "lines": "We measured thin dark lines on the forehead and under the eyes with a "
    "line-detecting filter: average response {value:.2f}. More or deeper lines score "
    "higher.",
    "dark_circles": "We compared the brightness under your eyes with your cheeks: "
    "under-eye skin is {value:.1f} units (CIELAB L*) darker.",
    "blemishes": "We counted small spots redder than the skin around them: about "
    "{value:.1f} per 100,000 skin pixels. A photo cannot tell whether a spot is "
    "raised.",
}


def to_score(concern: str, raw: float) -> int:
    """Map a raw metric to 0-100 by linear interpolation between the anchors."""
    xs, ys = zip(*ANCHORS[concern], strict=True)
    return round(float(np.interp(raw, xs, ys)))


def band(score: int) -> str:
    """low, moderate, high or severe."""
    return next(label for limit, label in BANDS if score < limit)


def explain(concern: str, raw: float) -> str:
    """One plain-words sentence on what was measured and the value found."""
    return EXPLANATIONS[concern].format(value=raw, percent=100.0 * raw)


ITA_CATEGORIES = (
    (55.0, "very_light"),
    (41.0, "light"),
    (28.0, "intermediate"),
    (10.0, "tan"),
    (-30.0, "brown"),
)


def ita_category(ita_deg: float) -> str:
    """Skin colour category from the ITA angle (Chardon et al. 1991 thresholds)."""
    return next((label for limit, label in ITA_CATEGORIES if ita_deg > limit), "dark")
