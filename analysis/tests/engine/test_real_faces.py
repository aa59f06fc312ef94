"""CI subset of the real-face evaluation (bench/evaluate.py, `make evaluate`).

Runs the engine on a handful of the real photos of scripts/faces-dev.json and on
controlled variants of them. The photos are fetched by `make install`
(scripts/fetch_faces.py); without them these tests skip, or fail when
SKINCARE_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from analysis.engine import CONCERNS, analyse_photo, retest_noise
from analysis.engine.decode import decode_for_analysis
from analysis.engine.pipeline import PhotoAnalysis, analyse_rgb
from bench.evaluate import DARK_EV, crop_rgb, exposure, jpeg
from skincare.testing import skip_or_fail

from .conftest import MODEL_PATH

ROOT = Path(__file__).resolve().parents[3]
FACES = ROOT / "var/faces"
MANIFEST = json.loads((ROOT / "scripts/faces-dev.json").read_text())
EXPECTED = {face["name"]: face["expected"] for face in MANIFEST["faces"]}
ORDINARY = sorted(name for name, expected in EXPECTED.items() if expected == "accept")
REFUSED = {
    name: expected
    for name, expected in EXPECTED.items()
    if expected not in ("accept", "either", "reject", "multiple_faces")
}
GROUPS = sorted(n for n, expected in EXPECTED.items() if expected == "multiple_faces")
# Frontal faces of different skin tone and light for the stability checks.
STABLE = ("obama.jpg", "0-f15-hao-ph.jpg", "test2.jpg")


@cache
def photo_bytes(name: str) -> bytes:
    path = FACES / name
    wanted = next(f["sha256"] for f in MANIFEST["faces"] if f["name"] == name)
    if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != wanted:
        skip_or_fail(f"{path} missing or changed: run `make install`")
    return path.read_bytes()


@cache
def analysed(name: str) -> PhotoAnalysis:
    return analyse_photo(photo_bytes(name), model_path=MODEL_PATH)


def outcome(result: PhotoAnalysis) -> str:
    return result.failure_code or "accept"


def photo_rgb(name: str) -> np.ndarray:
    return decode_for_analysis(photo_bytes(name)).rgb


def score_changes(base: PhotoAnalysis, other: PhotoAnalysis) -> dict[str, int]:
    assert outcome(base) == outcome(other) == "accept"
    return {
        concern: other.concerns[concern].score - base.concerns[concern].score
        for concern in CONCERNS
        if concern in base.concerns and concern in other.concerns
    }


def beyond_noise(changes: dict[str, int]) -> dict[str, int]:
    return {c: d for c, d in changes.items() if abs(d) > retest_noise(c)}


@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_well_lit_frontal_face_is_accepted(name):
    assert outcome(analysed(name)) == "accept"


@pytest.mark.parametrize(("name", "reason"), sorted(REFUSED.items()))
def test_unusable_photo_is_refused_with_its_reason(name, reason):
    assert outcome(analysed(name)) == reason


@pytest.mark.parametrize("name", GROUPS)
def test_group_photo_answers_multiple_faces_not_no_face(name):
    assert outcome(analysed(name)) == "multiple_faces"


@pytest.mark.parametrize("name", STABLE)
def test_darkened_face_is_refused_as_too_dark(name):
    darker = analyse_rgb(exposure(photo_rgb(name), DARK_EV), model_path=MODEL_PATH)

    assert outcome(darker) == "too_dark"


@pytest.mark.parametrize("name", STABLE)
def test_mirror_flip_moves_no_score_beyond_retest_noise(name):
    rgb = photo_rgb(name)
    base = analyse_rgb(rgb, model_path=MODEL_PATH)
    flipped = analyse_rgb(np.ascontiguousarray(rgb[:, ::-1]), model_path=MODEL_PATH)

    assert beyond_noise(score_changes(base, flipped)) == {}


@pytest.mark.parametrize("name", STABLE)
def test_jpeg_quality_60_moves_no_score_beyond_retest_noise(name):
    rgb = photo_rgb(name)
    base = analyse_rgb(rgb, model_path=MODEL_PATH)
    recoded = analyse_photo(jpeg(rgb, 60), model_path=MODEL_PATH)

    assert beyond_noise(score_changes(base, recoded)) == {}


def group_crop(name: str) -> np.ndarray:
    """One face cropped from a group photo, as bench/evaluate.py crops it."""
    crops = json.loads((ROOT / "scripts/faces-crops.json").read_text())["crops"]
    crop = next(c for c in crops if c["name"] == name)
    photo_bytes(crop["source"])  # skips when the group photo is missing
    return crop_rgb(crop)


def test_trimming_a_face_cut_by_the_photo_edge_keeps_texture_within_noise():
    # obama_partial_face2's left cheek runs off the photo's right edge: what is
    # left of it is a sliver next to the edge, which is not texture.
    rgb = photo_rgb("obama_partial_face2.jpg")
    width = rgb.shape[1]
    base = analyse_rgb(rgb, model_path=MODEL_PATH)
    trimmed = analyse_rgb(
        np.ascontiguousarray(rgb[:, : width - width // 50]), model_path=MODEL_PATH
    )

    assert abs(score_changes(base, trimmed)["texture"]) <= retest_noise("texture")


def test_forehead_mostly_under_hair_does_not_switch_texture_between_shots():
    # multi_face-face3's forehead is a quarter skin, right at the usability limit.
    rgb = group_crop("multi_face-face3")
    base = analyse_rgb(rgb, model_path=MODEL_PATH)
    recoded = analyse_photo(jpeg(rgb, 95), model_path=MODEL_PATH)

    assert abs(score_changes(base, recoded)["texture"]) <= retest_noise("texture")
