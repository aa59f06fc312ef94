"""The quality gate judges the light, not the skin: real faces of every tone."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.evaluate import CASTS, DARK_EV, WHITE_BALANCE, channel_gains, exposure

from .real_photos import TONES, analyse, analysed, outcome, photo_rgb


def test_dark_skinned_face_in_normal_light_is_accepted():
    assert outcome(analysed("obama.jpg")) == "accept"


def test_dark_skinned_face_at_45_percent_brightness_is_too_dark():
    darker = (photo_rgb("obama.jpg") * 0.45).astype(np.uint8)
    assert outcome(analyse(darker)) == "too_dark"


@pytest.mark.parametrize("name", TONES)
def test_photo_two_and_a_half_stops_too_dark_is_refused_for_every_skin_tone(name):
    assert outcome(analyse(exposure(photo_rgb(name), DARK_EV))) == "too_dark"


def test_flushed_fair_face_is_scored_not_refused():
    flushed = analysed("0-f1-su-ph.jpg")
    assert outcome(flushed) == "accept"
    redness = flushed.concerns["redness"].score
    assert all(redness > analysed(name).concerns["redness"].score for name in TONES)


def test_fair_face_in_cool_white_balance_is_accepted():
    assert outcome(analysed("15-f13-anc-ph.jpg")) == "accept"


def test_sunlit_face_with_a_saturated_red_channel_is_not_overexposed():
    assert outcome(analysed("single_face.jpg")) == "accept"


@pytest.mark.parametrize("cast", sorted(CASTS))
@pytest.mark.parametrize("name", TONES)
def test_tinted_photo_is_refused_as_colour_cast_for_every_skin_tone(name, cast):
    tinted = channel_gains(photo_rgb(name), CASTS[cast])
    assert outcome(analyse(tinted)) == "colour_cast"


@pytest.mark.parametrize("balance", sorted(WHITE_BALANCE))
@pytest.mark.parametrize("name", TONES)
def test_mild_white_balance_shift_is_accepted_for_every_skin_tone(name, balance):
    shifted = channel_gains(photo_rgb(name), WHITE_BALANCE[balance])
    assert outcome(analyse(shifted)) == "accept"


@pytest.mark.parametrize("name", ["obama.jpg", "test.jpg"])
def test_greyscale_photo_is_refused_as_colour_cast(name):
    grey = cv2.cvtColor(photo_rgb(name), cv2.COLOR_RGB2GRAY)
    assert outcome(analyse(cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB))) == "colour_cast"
