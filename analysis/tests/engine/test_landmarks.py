"""Landmark model handling and face detection on real photos."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from analysis.engine import EngineUnavailable, analyse_photo, check_model
from analysis.engine.landmarks import detect_faces

from .conftest import png_bytes


def test_check_model_accepts_the_installed_model(model_path):
    check_model(model_path)


def test_missing_model_raises_model_missing(tmp_path):
    with pytest.raises(EngineUnavailable) as info:
        check_model(str(tmp_path / "nope.task"))
    assert info.value.code == "model_missing"


def test_corrupt_model_raises_model_corrupt_and_never_scores(tmp_path, face_rgb):
    broken = tmp_path / "face_landmarker.task"
    broken.write_bytes(b"not a model" * 100)

    with pytest.raises(EngineUnavailable) as info:
        analyse_photo(png_bytes(face_rgb), model_path=str(broken))

    assert info.value.code == "model_corrupt"


def test_one_face_found_on_the_astronaut(face_rgb, model_path):
    faces = detect_faces(face_rgb, model_path=model_path)
    assert len(faces) == 1
    assert faces[0].points.shape == (478, 3)


@pytest.mark.parametrize("name", ["coffee", "chelsea", "rocket", "colorwheel"])
def test_non_faces_fail_with_no_face(name, analyse):
    rgb = np.ascontiguousarray(getattr(data, name)()[..., :3])
    result = analyse(rgb)
    assert result.status == "failed"
    assert result.failure_code == "no_face"
