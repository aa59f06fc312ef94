"""'See a dermatologist': the engine's pure rule, and skin tone alone never firing it.

The full measurement (every face, ITA -20/-10/+10/+20 degrees, two constructions)
is in bench/evaluate.py (`make evaluate`, EVALUATION.md); this is its CI subset.
"""

from __future__ import annotations

import pytest

from analysis.engine import retest_noise
from analysis.engine.pipeline import PhotoAnalysis
from analysis.engine.scoring import (
    REFERRAL_CONCERNS,
    SEVERE_AT,
    refer_to_dermatologist,
)
from bench.evaluate import melanin_shift, reference_ita, skin_tone_shift

from .real_photos import analyse, analysed, face_points, outcome, photo_rgb


def stored(score: int, *, severe: bool) -> dict:
    """One concern as the API stores it (analysis.services._scores_from)."""
    return {"score": score, "band": "severe" if severe else "high", "severe": severe}


def test_no_concern_severe_refers_to_no_one():
    assert refer_to_dermatologist({}) == []
    assert refer_to_dermatologist({"redness": stored(74, severe=False)}) == []


def test_every_severe_medical_concern_refers_sorted_by_name():
    scores = {
        "redness": stored(SEVERE_AT, severe=True),
        "pigmentation": stored(80, severe=True),
        "blemishes": stored(90, severe=True),
        "lines": stored(60, severe=False),
    }
    assert refer_to_dermatologist(scores) == ["blemishes", "pigmentation", "redness"]


@pytest.mark.parametrize("concern", ["shine", "texture", "lines", "dark_circles"])
def test_a_severe_cosmetic_concern_alone_does_not_refer(concern):
    assert REFERRAL_CONCERNS == ("redness", "blemishes", "pigmentation")
    assert refer_to_dermatologist({concern: stored(95, severe=True)}) == []


def test_a_severe_score_the_photo_barely_supports_does_not_refer():
    # The engine leaves `severe` off when confidence is low; the rule trusts it.
    assert refer_to_dermatologist({"redness": stored(90, severe=False)}) == []


def test_the_photo_result_of_the_engine_is_a_valid_input():
    result = analysed("obama.jpg").to_dict()
    severe = {c for c, r in result["concerns"].items() if r["severe"]}
    expected = sorted(severe & set(REFERRAL_CONCERNS))
    assert refer_to_dermatologist(result["concerns"]) == expected


def referral(result: PhotoAnalysis) -> list[str]:
    return refer_to_dermatologist(result.to_dict()["concerns"])


# A darker-skinned and a fair face, each in its own light (reference ITA 32 and 59).
FACES = ("obama.jpg", "0-f15-hao-ph.jpg")
SHIFTS = (-20, 20)


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("name", FACES)
def test_skin_tone_alone_does_not_newly_refer(name, shift):
    base = analysed(name)
    for change in (skin_tone_shift, melanin_shift):
        rgb = change(photo_rgb(name), face_points(name), shift)
        moved = reference_ita(rgb, face_points(name)) - reference_ita(
            photo_rgb(name), face_points(name)
        )
        assert abs(moved - shift) <= 1.5, (change.__name__, moved)
        varied = analyse(rgb)
        assert outcome(varied) == "accept", change.__name__
        assert set(referral(varied)) <= set(referral(base)), change.__name__


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("name", FACES)
def test_melanin_alone_moves_redness_within_noise(name, shift):
    varied = analyse(melanin_shift(photo_rgb(name), face_points(name), shift))
    change = varied.concerns["redness"].score - analysed(name).concerns["redness"].score
    assert abs(change) <= retest_noise("redness")
