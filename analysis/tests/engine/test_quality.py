"""Quality gate: each bad photo fails with its own code, not with a low score."""

from __future__ import annotations

import cv2
import numpy as np

from analysis.engine.quality import ADVICE
from bench.evaluate import channel_gains


def assert_fails(result, code: str) -> None:
    assert result.status == "failed"
    assert result.failure_code == code
    assert result.failure_advice == ADVICE[code]
    assert not result.concerns


def test_good_photo_passes_every_check(baseline):
    assert all(finding.passed for finding in baseline.quality)
    assert {f.code for f in baseline.quality} == set(ADVICE)


def test_darkened_photo_is_too_dark(face_rgb, analyse):
    assert_fails(analyse((face_rgb * 0.3).astype(np.uint8)), "too_dark")


def test_washed_out_photo_is_overexposed(face_rgb, analyse):
    bright = np.clip(face_rgb.astype(np.float32) * 1.8, 0, 255).astype(np.uint8)
    assert_fails(analyse(bright), "overexposed")


def test_blurred_photo_is_blurred(face_rgb, analyse):
    assert_fails(analyse(cv2.GaussianBlur(face_rgb, (0, 0), 3)), "blurred")


def test_green_tinted_photo_has_a_colour_cast(face_rgb, analyse):
    tinted = np.clip(face_rgb * np.array([0.75, 1.2, 0.8]), 0, 255).astype(np.uint8)
    assert_fails(analyse(tinted), "colour_cast")


def test_black_and_white_photo_has_a_colour_cast(face_rgb, analyse):
    grey = cv2.cvtColor(cv2.cvtColor(face_rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    assert_fails(analyse(grey), "colour_cast")


def test_small_face_in_a_large_canvas_is_too_small(face_rgb, analyse):
    canvas = np.full((2048, 2048, 3), 128, dtype=np.uint8)
    canvas[600:1368, 600:1368] = face_rgb
    small = cv2.resize(canvas, (1024, 1024), interpolation=cv2.INTER_AREA)
    assert_fails(analyse(small), "face_too_small")


def test_rotated_face_fails_head_pose(face_rgb, analyse):
    turn = cv2.getRotationMatrix2D((384, 384), 35, 1.0)
    rotated = cv2.warpAffine(face_rgb, turn, (768, 768), borderMode=cv2.BORDER_REFLECT)
    result = analyse(rotated)
    assert_fails(result, "head_pose")
    assert abs(result.image.roll_deg) > 25


def test_two_faces_fail_with_multiple_faces(face_rgb, analyse):
    assert_fails(
        analyse(np.concatenate([face_rgb, face_rgb[:, ::-1]], 1)), "multiple_faces"
    )


def test_one_saturated_red_channel_is_not_overexposure(face_rgb, analyse):
    # A quarter of the skin's red channel clipped, as on a flushed fair cheek; the
    # luminance is nowhere near white.
    redder = channel_gains(face_rgb, (1.5, 1.0, 1.0))
    assert np.count_nonzero(redder[..., 0] >= 250) > 0.2 * redder[..., 0].size
    result = analyse(redder)
    assert result.status == "ok", result.failure_code
