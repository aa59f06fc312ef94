"""analyse_photo end to end, result shape, comparisons and noise constants."""

from __future__ import annotations

import json

import numpy as np

from analysis.engine import (
    CONCERNS,
    DISCLAIMER,
    TEST_RETEST_NOISE,
    analyse_photo,
    lighting_comparable,
    retest_noise,
)
from analysis.engine.scoring import ANCHORS, ita_category, to_score

from .conftest import jpeg_bytes


def test_photo_bytes_give_a_json_ready_ok_result(face_rgb, model_path):
    result = analyse_photo(jpeg_bytes(face_rgb), model_path=model_path).to_dict()

    assert json.loads(json.dumps(result)) == result
    assert result["status"] == "ok"
    assert result["disclaimer"] == DISCLAIMER
    assert set(result["concerns"]) == set(CONCERNS)
    for concern in result["concerns"].values():
        assert 0 <= concern["score"] <= 100
        assert 0 <= concern["confidence"] <= 1
        assert concern["band"] in ("low", "moderate", "high", "severe")
        assert concern["severe"] == (
            concern["score"] >= 75 and concern["confidence"] >= 0.5
        )
        assert concern["explanation"]
    assert result["skin_tone"]["category"] in ("very_light", "light")
    assert {"decode", "landmarks", "quality", "metrics", "total"} <= set(
        result["timings_ms"]
    )


def test_bad_bytes_come_back_as_a_failed_result(model_path):
    result = analyse_photo(b"definitely not a photo", model_path=model_path)
    assert result.status == "failed"
    assert result.failure_code == "not_an_image"


def test_scores_rise_with_the_raw_metric():
    for concern in CONCERNS:
        first, last = ANCHORS[concern][0][0], ANCHORS[concern][-1][0]
        span = last - first
        raws = np.linspace(first - 0.1 * span, last + 0.1 * span, 200)
        scores = [to_score(concern, float(raw)) for raw in raws]
        assert scores == sorted(scores)
        assert scores[0] == 0
        assert scores[-1] == 100


def test_ita_categories_follow_chardon_thresholds():
    assert ita_category(60) == "very_light"
    assert ita_category(30) == "intermediate"
    assert ita_category(0) == "brown"
    assert ita_category(-45) == "dark"


def test_same_photo_is_lighting_comparable_and_dimmed_one_is_not(
    face_rgb, baseline, analyse
):
    dimmer = analyse((face_rgb * 0.7).astype(np.uint8)).to_dict()
    same = baseline.to_dict()

    assert lighting_comparable(same, same)
    assert lighting_comparable(same["image"], same["image"])
    assert not lighting_comparable(same, dimmer)


def test_retest_noise_is_measured_for_every_concern():
    assert set(TEST_RETEST_NOISE) == set(CONCERNS)
    assert all(0 <= retest_noise(c) <= 100 for c in CONCERNS)
