"""Landmark model handling and face detection on real photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from analysis.engine import EngineUnavailable, analyse_photo, check_model
from analysis.engine.decode import decode_for_analysis
from analysis.engine.detector import (
    DETECTOR_FILE,
    check_detector,
    detector_path,
    find_faces,
)
from analysis.engine.landmarks import detect_faces
from analysis.engine.regions import mirror_averaged, mirror_indices, region_indices
from skincare.testing import skip_or_fail

from .conftest import MODEL_PATH, png_bytes


def test_check_model_accepts_the_installed_model_and_refuses_one_changed_byte(
    model_path, tmp_path
):
    blob = bytearray(Path(model_path).read_bytes())
    model = tmp_path / "face_landmarker.task"
    model.write_bytes(blob)
    assert check_model(str(model)) is None

    blob[len(blob) // 2] ^= 0xFF
    model.write_bytes(blob)

    with pytest.raises(EngineUnavailable) as info:
        check_model(str(model))
    assert info.value.code == "model_corrupt"


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


# --- every face found (full-range detector beside the landmarker) -----------------

FACES_DIR = Path(__file__).resolve().parents[3] / "var/faces"
SINGLE_FACE_PHOTOS = (
    "obama.jpg",
    "obama2.jpg",
    "obama3.jpg",
    "obama_partial_face.jpg",
    "obama_partial_face2.jpg",
    "biden.jpg",
    "0-f15-hao-ph.jpg",
    "0-f1-su-ph.jpg",
    "15-f13-anc-ph.jpg",
    "45-m7-di-ph.jpg",
    "single_face.jpg",
    "Image_with_alpha.png",
    "test.jpg",
    "test2.jpg",
)


def real_photo(name: str) -> np.ndarray:
    """A photo of the evaluation set (var/faces, fetched by `make install`)."""
    path = FACES_DIR / name
    if not path.exists():
        skip_or_fail(f"{path} missing: run `make install`")
    return decode_for_analysis(path.read_bytes()).rgb


@pytest.mark.parametrize("name", ["t1.jpg", "multi_face.jpg"])
def test_group_photos_answer_multiple_faces(name, analyse):
    result = analyse(real_photo(name))

    assert result.failure_code == "multiple_faces"


def test_group_photo_at_half_size_still_answers_multiple_faces(analyse):
    group = real_photo("t1.jpg")
    half = cv2.resize(group, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)

    assert analyse(half).failure_code == "multiple_faces"


def test_a_small_second_face_answers_multiple_faces(face_rgb, analyse):
    # given the astronaut with a quarter-size copy of the photo in one corner
    photo = face_rgb.copy()
    small = cv2.resize(face_rgb, (192, 192), interpolation=cv2.INTER_AREA)
    photo[-192:, -192:] = small

    assert analyse(photo).failure_code == "multiple_faces"


@pytest.mark.parametrize("name", ["mask_blue.jpg", "free-mountain-vector-01.jpg"])
def test_photos_without_a_face_answer_no_face(name, analyse):
    assert analyse(real_photo(name)).failure_code == "no_face"


@pytest.mark.parametrize("name", SINGLE_FACE_PHOTOS)
def test_each_single_face_real_photo_has_exactly_one_face(name, model_path):
    photo = real_photo(name)

    assert len(find_faces(photo, model_path=model_path)) == 1
    assert len(find_faces(photo[:, ::-1].copy(), model_path=model_path)) == 1


def test_face_too_small_for_landmarks_answers_face_too_small_not_no_face(analyse):
    # a soldier in a historical photo, face ~64 px: found, but too small to map
    assert analyse(real_photo("BWPictureHuman.jpg")).failure_code == "face_too_small"


def test_missing_detector_model_raises_model_missing(tmp_path, face_rgb):
    landmarks = tmp_path / "face_landmarker.task"
    landmarks.write_bytes(Path(MODEL_PATH).read_bytes())

    with pytest.raises(EngineUnavailable) as info:
        analyse_photo(png_bytes(face_rgb), model_path=str(landmarks))

    assert info.value.code == "model_missing"


def test_corrupt_detector_model_raises_model_corrupt(tmp_path):
    broken = tmp_path / DETECTOR_FILE
    broken.write_bytes(b"not a model" * 100)

    with pytest.raises(EngineUnavailable) as info:
        check_detector(str(broken))

    assert info.value.code == "model_corrupt"


def test_check_detector_accepts_the_installed_detector_and_refuses_one_changed_byte(
    model_path, tmp_path
):
    blob = bytearray(Path(detector_path(model_path)).read_bytes())
    detector = tmp_path / DETECTOR_FILE
    detector.write_bytes(blob)
    assert check_detector(str(detector)) is None

    blob[len(blob) // 2] ^= 0xFF
    detector.write_bytes(blob)

    with pytest.raises(EngineUnavailable) as info:
        check_detector(str(detector))
    assert info.value.code == "model_corrupt"


def test_mirror_averaged_landmarks_of_a_flipped_photo_are_their_mirror_image(
    face_rgb, model_path
):
    flipped = np.ascontiguousarray(face_rgb[:, ::-1])
    width = face_rgb.shape[1]
    points = detect_faces(face_rgb, model_path=model_path)[0].points
    mirrored = detect_faces(flipped, model_path=model_path)[0].points
    photo = mirror_averaged(points, mirrored, width)
    flipped_photo = mirror_averaged(mirrored, points, width)

    back = flipped_photo[mirror_indices()]
    back[:, 0] = width - back[:, 0]
    np.testing.assert_allclose(back, photo, atol=1e-9)


def test_mirror_indices_pair_the_right_and_left_regions():
    mirror = mirror_indices()
    regions = region_indices()

    assert (mirror[mirror] == np.arange(mirror.size)).all()
    for right, left in (
        ("cheek_right", "cheek_left"),
        ("under_eye_right", "under_eye_left"),
    ):
        assert mirror[list(regions[right])].tolist() == list(regions[left])
