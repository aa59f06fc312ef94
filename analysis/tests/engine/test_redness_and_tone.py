"""Redness measures haemoglobin, not melanin or exposure; ITA says when it is unsure."""

from __future__ import annotations

import pytest

from analysis.engine import CONCERNS, retest_noise
from bench.evaluate import TINT_A, cheek_tint, exposure

from .real_photos import TONES, analyse, analysed, face_points, outcome, photo_rgb

DARKER_EV = (-1.0, -0.5)


@pytest.mark.parametrize("name", TONES)
def test_cheek_tint_of_6_a_star_raises_redness_by_8_and_nothing_else(name):
    base = analysed(name)
    tinted = analyse(cheek_tint(photo_rgb(name), face_points(name), TINT_A))
    assert outcome(tinted) == "accept"
    change = {c: tinted.concerns[c].score - base.concerns[c].score for c in CONCERNS}
    assert change["redness"] >= 8, change
    others = {c: d for c, d in change.items() if c != "redness"}
    assert all(abs(d) <= retest_noise(c) for c, d in others.items()), others


@pytest.mark.parametrize("ev", DARKER_EV)
@pytest.mark.parametrize("name", TONES)
def test_redness_does_not_follow_exposure(name, ev):
    darker = analyse(exposure(photo_rgb(name), ev))
    assert outcome(darker) == "accept"
    change = darker.concerns["redness"].score - analysed(name).concerns["redness"].score
    assert abs(change) <= retest_noise("redness")


@pytest.mark.parametrize("ev", [0.0, *DARKER_EV])
@pytest.mark.parametrize("name", ["obama.jpg", "obama2.jpg"])
def test_dark_skin_alone_never_makes_redness_high_or_severe(name, ev):
    result = analyse(exposure(photo_rgb(name), ev)) if ev else analysed(name)
    redness = result.concerns["redness"]
    assert redness.band in ("low", "moderate")
    assert not redness.severe


@pytest.mark.parametrize("ev", [-0.5, 0.5])
@pytest.mark.parametrize("name", TONES)
def test_skin_tone_stays_put_under_exposure_or_says_it_is_unsure(name, ev):
    base = analysed(name).skin_tone
    other = analyse(exposure(photo_rgb(name), ev)).skin_tone
    assert abs(other.ita_deg - base.ita_deg) <= 5.0 or other.confidence <= 0.6


def test_redness_read_through_clipped_colour_is_not_trusted_or_severe():
    result = analyse(exposure(photo_rgb("single_face.jpg"), 0.5))
    assert outcome(result) == "accept"
    redness = result.concerns["redness"]
    assert redness.confidence < 0.5
    assert not redness.severe
