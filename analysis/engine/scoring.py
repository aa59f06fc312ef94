"""Raw metric to 0-100 score, band, severity, confidence and plain-words explanation.

Direction: every score is "more of the concern" (higher is worse). The anchors are
piecewise-linear and documented, with their sources, in CALIBRATION.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
    "redness": ((-10.0, 0), (10.0, 25), (30.0, 50), (50.0, 75), (70.0, 100)),
    "shine": ((0.01, 0), (0.03, 15), (0.06, 35), (0.10, 55), (0.16, 80), (0.25, 100)),
    "texture": ((0.5, 0), (0.8, 12), (1.2, 30), (1.7, 50), (2.4, 75), (3.2, 100)),
    "pigmentation": (
        (0.05, 0),
        (0.3, 8),
        (0.6, 20),
        (1.2, 38),
        (2.0, 55),
        (4.0, 80),
        (8.0, 100),
    ),
    "lines": ((0.3, 0), (0.5, 10), (0.65, 20), (1.0, 50), (1.6, 80), (2.2, 100)),
    "dark_circles": (
        (1.0, 0),
        (3.0, 15),
        (6.0, 40),
        (10.0, 65),
        (15.0, 90),
        (20.0, 100),
    ),
    "blemishes": ((0.03, 0), (0.3, 15), (1.0, 35), (2.5, 60), (5.0, 85), (8.0, 100)),
}
UNITS = {
    "redness": "haemoglobin index (optical density x 100, shading removed)",
    "shine": "fraction of T-zone skin with specular highlights",
    "texture": "robust s.d. of fine-detail L* at skin L* 66 (face at 128 px)",
    "pigmentation": "dark-spot strength x area, % of skin (face at 128 px)",
    "lines": "mean dark-line response, L* units at skin L* 66 (face at 128 px)",
    "dark_circles": "L* of cheeks minus L* under the eyes, at cheek L* 66",
    "blemishes": "red-spot strength x area, % of skin (face at 128 px)",
}
BANDS = ((25, "low"), (50, "moderate"), (75, "high"), (101, "severe"))
SEVERE_AT = 75

EXPLANATIONS = {
    "redness": "We measured the redness that blood gives your skin (a haemoglobin "
    "index, separated from your natural skin colour and from the brightness of the "
    "photo) on the cheeks, nose, forehead and chin: {value:.1f}; higher values mean "
    "redder skin.",
    "shine": "We measured shiny highlights, which come from oil on the skin, on the "
    "forehead, nose and chin: {percent:.0f}% of that skin showed shine.",
    "texture": "We measured fine detail in the skin's brightness (pores, roughness) "
    "on the forehead, cheeks, nose and chin: {value:.2f} units. Smoother skin scores "
    "lower. Detail finer than about a millimetre is not counted, so the score does "
    "not depend on how close the camera was.",
    "pigmentation": "We looked for small spots darker than the skin around them on "
    "the forehead, cheeks and chin: their darkness times their area came to "
    "{value:.2f} (0 means none found).",
    "lines": "We measured thin dark lines on the forehead and under the eyes with a "
    "line-detecting filter: average response {value:.2f}. More or deeper lines score "
    "higher.",
    "dark_circles": "We compared the brightness under your eyes with your cheeks: "
    "under-eye skin is {value:.1f} units (CIELAB L*) darker.",
    "blemishes": "We looked for small spots redder than the skin around them: their "
    "redness times their area came to {value:.2f} (0 means none found). A photo "
    "cannot tell whether a spot is raised.",
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


# Concerns a dermatologist treats (rosacea and flushing, acne, melasma and spots to
# have checked). Shine, texture, lines and dark circles are cosmetic: a routine
# answers them, and they are also the readings that move most with the light and
# with skin lightness (EVALUATION.md), so a severe one alone does not refer.
REFERRAL_CONCERNS = ("redness", "blemishes", "pigmentation")


def refer_to_dermatologist(scores: Mapping[str, Mapping[str, object]]) -> list[str]:
    """The concerns that warrant seeing a dermatologist, sorted (empty: none).

    scores maps each concern to its stored result ({"score", "severe", ...}); one of
    REFERRAL_CONCERNS refers when it is flagged severe (score in the severe band, >=
    SEVERE_AT, with enough confidence). Skin tone is not an input: bench/evaluate.py
    measures that changing only the skin's melanin does not newly refer.
    """
    return sorted(
        name
        for name, value in scores.items()
        if name in REFERRAL_CONCERNS and value.get("severe")
    )
