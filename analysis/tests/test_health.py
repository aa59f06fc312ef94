import pytest

pytestmark = pytest.mark.django_db


def test_ready_is_503_naming_the_landmark_model_when_it_is_missing(
    client, settings, tmp_path
):
    settings.LANDMARK_MODEL_PATH = str(tmp_path / "face_landmarker.task")

    response = client.get("/health/ready/")

    assert response.status_code == 503
    assert "landmark_model" in response.json()["down"]


def test_ready_is_503_when_the_model_file_is_corrupt(client, settings, tmp_path):
    corrupt = tmp_path / "face_landmarker.task"
    corrupt.write_bytes(b"not a model")
    settings.LANDMARK_MODEL_PATH = str(corrupt)

    response = client.get("/health/ready/")

    assert response.status_code == 503
    assert "landmark_model" in response.json()["down"]


def test_ready_reports_the_landmark_model_ok_when_it_is_intact(client):
    response = client.get("/health/ready/")

    assert response.json()["checks"]["landmark_model"] == "ok"
