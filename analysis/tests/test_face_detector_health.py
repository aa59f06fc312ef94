import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db


def test_ready_is_503_naming_the_face_detector_when_it_is_missing(
    client, settings, tmp_path
):
    # given an intact landmark model with no detector beside it
    landmarks = tmp_path / "face_landmarker.task"
    shutil.copyfile(settings.LANDMARK_MODEL_PATH, landmarks)
    settings.LANDMARK_MODEL_PATH = str(landmarks)

    response = client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["down"] == ["face_detector"]


def test_ready_is_503_when_the_face_detector_is_corrupt(client, settings, tmp_path):
    landmarks = tmp_path / "face_landmarker.task"
    shutil.copyfile(settings.LANDMARK_MODEL_PATH, landmarks)
    (tmp_path / "face_detection_full_range.tflite").write_bytes(b"not a model")
    settings.LANDMARK_MODEL_PATH = str(landmarks)

    response = client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["down"] == ["face_detector"]


def test_ready_reports_the_face_detector_ok_when_it_is_intact(client, settings):
    assert Path(settings.LANDMARK_MODEL_PATH).exists()

    response = client.get("/health/ready/")

    assert response.json()["checks"]["face_detector"] == "ok"
