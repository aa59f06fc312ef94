"""Texture, lines, pigmentation and blemishes: same face, same numbers (item 5)."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from analysis.engine import CONCERNS, retest_noise
from analysis.engine.decode import decode_for_analysis
from analysis.engine.landmarks import detect_faces
from analysis.engine.pipeline import _canonical_face, _mirror_averaged_face
from analysis.engine.regions import region_indices, region_masks
from bench.evaluate import at_face_width
from skincare.testing import skip_or_fail

DETAIL = ("texture", "lines", "pigmentation", "blemishes")
FACES = Path(__file__).resolve().parents[3] / "var/faces"


def real_photo(name: str) -> np.ndarray:
    path = FACES / name
    if not path.exists():
        skip_or_fail(f"{path} missing: run `make install`")
    return decode_for_analysis(path.read_bytes()).rgb


def tinted(rgb: np.ndarray, points: np.ndarray, delta_a: float) -> np.ndarray:
    """Add delta_a to CIELAB a* on both cheeks with a hard edge (a filter's tint)."""
    masks = region_masks(points, rgb.shape[:2])
    cheeks = (masks["cheek_right"] | masks["cheek_left"]).astype(np.float32)
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    lab[..., 1] += delta_a * cheeks
    back = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    return np.round(np.clip(back, 0.0, 1.0) * 255.0).astype(np.uint8)


def red_spots(
    rgb: np.ndarray, points: np.ndarray, *, alpha: float, radius: float
) -> np.ndarray:
    """Five round red spots at fixed places on the left cheek."""
    mask = region_masks(points, rgb.shape[:2])["cheek_left"]
    ys, xs = np.nonzero(mask)
    scale = np.ptp(points[:, 0]) / 270.0
    paint = np.zeros(rgb.shape[:2], dtype=np.float32)
    rows, cols = np.indices(rgb.shape[:2], dtype=np.float32)
    for fx, fy in ((0.3, 0.3), (0.6, 0.3), (0.45, 0.5), (0.3, 0.7), (0.6, 0.7)):
        x, y = np.percentile(xs, 100 * fx), np.percentile(ys, 100 * fy)
        distance = np.hypot(cols - x, rows - y)
        # Anti-aliased disk: its area grows smoothly with the radius.
        np.maximum(paint, np.clip(radius * scale - distance + 0.5, 0, 1), out=paint)
    weight = (cv2.GaussianBlur(paint, (0, 0), 1.0) * alpha)[..., None]
    red = np.array((200, 60, 60), dtype=np.float32)
    return np.clip(rgb * (1 - weight) + red * weight, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    "name", ["obama.jpg", "biden.jpg", "0-f15-hao-ph.jpg", "test2.jpg"]
)
def test_scores_at_144_and_288_px_face_width_agree_within_noise(name, analyse):
    rgb = real_photo(name)
    points = detect_faces(rgb, model_path=_model())[0].points

    small = analyse(at_face_width(rgb, points, 144))
    large = analyse(at_face_width(rgb, points, 288))

    assert small.status == large.status == "ok"
    apart = {
        c: small.concerns[c].score - large.concerns[c].score
        for c in CONCERNS
        if abs(small.concerns[c].score - large.concerns[c].score) > retest_noise(c)
    }
    assert apart == {}


@pytest.mark.parametrize("name", ["obama.jpg", "biden.jpg", "0-f15-hao-ph.jpg"])
def test_lines_at_144_px_read_no_lower_than_at_288_px(name, analyse):
    # Fine lines lose contrast to a small photo's own blur; the larger face is read
    # as if photographed at 144 px, so the two agree closely, not just within noise.
    rgb = real_photo(name)
    points = detect_faces(rgb, model_path=_model())[0].points

    small = analyse(at_face_width(rgb, points, 144)).concerns["lines"]
    large = analyse(at_face_width(rgb, points, 288)).concerns["lines"]

    assert abs(small.raw - large.raw) <= 0.03 * large.raw + 0.01


@pytest.mark.parametrize("name", ["biden.jpg", "test2.jpg", "0-f15-hao-ph.jpg"])
def test_regions_sit_in_the_same_place_at_144_and_288_px(name):
    # The under-eye regions decide dark circles: their landmarks are read on the
    # face resampled to one width, so a smaller photo puts them in the same place.
    rgb = real_photo(name)
    face = detect_faces(rgb, model_path=_model())[0]
    readings = []
    for width in (144, 288):
        frame = at_face_width(rgb, face.points, width)
        found = detect_faces(frame, model_path=_model())[0]
        found = _mirror_averaged_face(frame, found, model_path=_model())
        points = _canonical_face(frame, found, model_path=_model()).points[:, :2]
        readings.append(points / np.ptp(points[:, 0]))
    under_eyes = list(region_indices()["under_eye_right"]) + list(
        region_indices()["under_eye_left"]
    )
    # Under-eye points relative to the whole face, in face widths: read on the
    # photo itself they moved by up to 0.4% (2 canonical px, ~3 L* under the eye).
    small, large = (r[under_eyes] - r.mean(axis=0) for r in readings)
    assert float(np.abs(small - large).max()) < 0.0025


@pytest.mark.parametrize("name", ["obama.jpg", "test2.jpg"])
def test_a_hard_edged_cheek_tint_creates_no_blemish(name, analyse):
    # given a real face whose cheeks a filter tinted +10 a*, with a sharp edge
    rgb = real_photo(name)
    points = detect_faces(rgb, model_path=_model())[0].points
    before = analyse(rgb)

    after = analyse(tinted(rgb, points, 10.0))

    assert after.concerns["redness"].score > before.concerns["redness"].score
    assert after.concerns["blemishes"].score - before.concerns["blemishes"].score <= 3


def test_blemish_score_grows_continuously_with_spot_contrast(
    face_rgb, face_points, analyse
):
    raws, scores = [], []
    for alpha in np.linspace(0.15, 0.6, 13):
        result = analyse(red_spots(face_rgb, face_points, alpha=alpha, radius=3.0))
        raws.append(result.concerns["blemishes"].raw)
        scores.append(result.concerns["blemishes"].score)

    assert all(b > a for a, b in itertools.pairwise(raws)), raws
    # No step: a slightly stronger spot is worth a few points, not a spot's worth.
    assert max(np.diff(scores)) <= 8, scores


def test_blemish_score_grows_continuously_with_spot_area(
    face_rgb, face_points, analyse
):
    raws, scores = [], []
    for radius in np.linspace(2.0, 3.5, 13):
        result = analyse(red_spots(face_rgb, face_points, alpha=0.6, radius=radius))
        raws.append(result.concerns["blemishes"].raw)
        scores.append(result.concerns["blemishes"].score)

    assert all(b > a for a, b in itertools.pairwise(raws)), raws
    assert max(np.diff(scores)) <= 8, scores


def _model() -> str:
    from .conftest import MODEL_PATH

    return MODEL_PATH
