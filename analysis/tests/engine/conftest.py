"""Shared fixtures: one real face photo (skimage astronaut), its landmarks, model."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from analysis.engine.landmarks import detect_faces
from analysis.engine.pipeline import PhotoAnalysis, analyse_rgb

MODEL_PATH = str(
    Path(__file__).resolve().parents[3] / "var/models/face_landmarker.task"
)


def astronaut_face() -> np.ndarray:
    """The astronaut's head and shoulders, upscaled so the face is ~270 px wide."""
    crop = np.ascontiguousarray(data.astronaut()[7:263, 97:353])
    return cv2.resize(crop, (768, 768), interpolation=cv2.INTER_CUBIC)


def png_bytes(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes(rgb: np.ndarray, quality: int = 92, **options: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=quality, **options)
    return out.getvalue()


@pytest.fixture(scope="session")
def model_path() -> str:
    return MODEL_PATH


@pytest.fixture(scope="session")
def face_rgb() -> np.ndarray:
    return astronaut_face()


@pytest.fixture(scope="session")
def face_points(face_rgb: np.ndarray, model_path: str) -> np.ndarray:
    return detect_faces(face_rgb, model_path=model_path)[0].points


@pytest.fixture(scope="session")
def analyse(model_path: str):
    def run(rgb: np.ndarray) -> PhotoAnalysis:
        return analyse_rgb(np.ascontiguousarray(rgb), model_path=model_path)

    return run


@pytest.fixture(scope="session")
def baseline(face_rgb: np.ndarray, analyse) -> PhotoAnalysis:
    result = analyse(face_rgb)
    assert result.status == "ok", result.failure_code
    return result
