"""Synthetic edits of a real face move the right metric, and little else."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from analysis.engine import CONCERNS
from analysis.engine.metrics import measure
from analysis.engine.regions import crop_face, region_masks
from bench.evaluate import exposure

from . import edits

# A concern the edit does not target may move by at most this many score points.
STILL = 8


def score_changes(before, after) -> dict[str, int]:
    return {c: after.concerns[c].score - before.concerns[c].score for c in CONCERNS}


def assert_only_moves(changes: dict[str, int], target: str, at_least: int) -> None:
    assert changes[target] >= at_least, changes
    others = {c: d for c, d in changes.items() if c != target}
    assert all(abs(d) <= STILL for d in others.values()), others


def test_reddened_cheek_raises_redness_on_that_cheek_only(
    face_rgb, face_points, analyse, baseline
):
    result = analyse(edits.redden(face_rgb, face_points, "cheek_right"))

    before = baseline.concerns["redness"].regions
    after = result.concerns["redness"].regions
    assert after["cheek_right"].value - before["cheek_right"].value > 8
    for region in ("cheek_left", "forehead", "nose_hull", "chin"):
        assert abs(after[region].value - before[region].value) < 0.5
    assert_only_moves(score_changes(baseline, result), "redness", 8)


def test_darkened_under_eyes_raise_dark_circles(
    face_rgb, face_points, analyse, baseline
):
    darker = edits.darken(face_rgb, face_points, ("under_eye_right", "under_eye_left"))
    result = analyse(darker)
    assert (
        result.concerns["dark_circles"].raw - baseline.concerns["dark_circles"].raw > 8
    )
    assert_only_moves(score_changes(baseline, result), "dark_circles", 40)


def test_highlights_on_nose_and_forehead_raise_shine(
    face_rgb, face_points, analyse, baseline
):
    shiny = edits.add_highlights(face_rgb, face_points, ("nose_hull", "forehead"))
    result = analyse(shiny)
    after = result.concerns["shine"].regions
    assert (
        after["nose_hull"].value
        > baseline.concerns["shine"].regions["nose_hull"].value + 0.05
    )
    assert_only_moves(score_changes(baseline, result), "shine", 20)


def test_thin_forehead_lines_raise_lines(face_rgb, face_points, analyse, baseline):
    result = analyse(edits.draw_lines(face_rgb, face_points))
    changes = score_changes(baseline, result)
    assert changes["lines"] >= 25, changes
    before = baseline.concerns["lines"].regions["forehead"].value
    assert result.concerns["lines"].regions["forehead"].value > 1.5 * before
    # Lines are fine detail too, so texture may rise with them; nothing else should.
    others = {c: d for c, d in changes.items() if c not in ("lines", "texture")}
    assert all(abs(d) <= STILL for d in others.values()), others


def test_brown_spots_raise_pigmentation(face_rgb, face_points, analyse, baseline):
    spotted = edits.add_spots(face_rgb, face_points, "cheek_left", (120, 80, 60))
    result = analyse(spotted)
    changes = score_changes(baseline, result)
    assert changes["pigmentation"] >= 10, changes
    # Ten high-contrast dark dots are also fine detail on one cheek: texture rises
    # 8-9 points (8 before engine 2.1.0; the regions moved by a pixel), far less
    # than pigmentation; every other concern stays still.
    assert changes["texture"] <= 10, changes
    others = {c: d for c, d in changes.items() if c not in ("pigmentation", "texture")}
    assert all(abs(d) <= STILL for d in others.values()), others


def test_small_red_spots_raise_blemishes(face_rgb, face_points, analyse, baseline):
    spotted = edits.add_spots(face_rgb, face_points, "cheek_left", (200, 60, 60))
    result = analyse(spotted)
    assert_only_moves(score_changes(baseline, result), "blemishes", 15)


@pytest.mark.parametrize("concern", CONCERNS)
def test_untouched_face_scores_low(baseline, concern):
    assert baseline.concerns[concern].band in ("low", "moderate")


@pytest.mark.parametrize("edit", ["none", "lines", "red_spots", "cut_at_edge"])
def test_windowed_measure_equals_whole_crop(face_rgb, face_points, edit, monkeypatch):
    """measure() filters only a window around the regions; widening it to the
    whole crop must not change a single number (guards the window margins)."""
    from analysis.engine import metrics
    from analysis.engine.regions import crop_face

    rgb, points = face_rgb, face_points
    if edit == "lines":
        rgb = edits.draw_lines(rgb, points)
    elif edit == "red_spots":
        rgb = edits.add_spots(rgb, points, "cheek_left", (200, 60, 60))
    elif edit == "cut_at_edge":  # regions touch the crop's border
        rgb, points = rgb[:, 230:], points - [230.0, 0.0, 0.0]
    crop = crop_face(rgb, points)
    windowed = metrics.measure(crop)
    monkeypatch.setattr(metrics, "WINDOW_MARGIN", 10_000)
    monkeypatch.setattr(metrics, "REGION_MARGIN", 10_000)
    whole = metrics.measure(crop)
    assert windowed.overall == whole.overall
    assert windowed.regions == whole.regions
    assert windowed.usable == whole.usable
    assert windowed.skin_lab == whole.skin_lab


def test_redness_is_the_same_in_a_darker_photo(face_rgb, analyse, baseline):
    darker = analyse(exposure(face_rgb, -1.0))
    assert darker.status == "ok", darker.failure_code
    change = darker.concerns["redness"].score - baseline.concerns["redness"].score
    assert abs(change) <= 2


def test_dark_circle_darker_than_the_skin_tolerance_stays_in_the_under_eye_mask(
    face_rgb, face_points
):
    # A band under the eye far darker than the face's skin, about 3 mm tall, is a
    # dark circle to measure, not a hole in the skin mask whose size changes with
    # every re-take.
    crop = crop_face(face_rgb, face_points)
    polygon = region_masks(crop.points, crop.rgb.shape[:2])["under_eye_right"]
    rows = np.flatnonzero(polygon.any(axis=1))
    middle = (rows[0] + rows[-1]) // 2
    band = np.zeros_like(polygon)
    band[middle - 7 : middle + 7] = True
    darkened = crop.rgb.copy()
    darkened[band & polygon] = (darkened[band & polygon] * 0.35).astype(np.uint8)
    before = measure(crop).usable["under_eye_right"]
    after = measure(replace(crop, rgb=darkened)).usable["under_eye_right"]

    assert after >= before - 0.05, (before, after)
