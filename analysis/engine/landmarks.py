"""MediaPipe FaceLandmarker, verified by hash and created once per process and model."""

from __future__ import annotations

import atexit
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import EngineUnavailable

MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
MAX_FACES = 2
# 0.5 (MediaPipe's default) accepts skimage's colour wheel as a face; 0.7 does not.
MIN_CONFIDENCE = 0.7

_cache: dict[tuple[str, int], Any] = {}
_cache_lock = threading.Lock()
_detect_lock = threading.Lock()


@dataclass(frozen=True)
class Face:
    """One detected face: 478 points in pixels (x, y, z) and its 4x4 pose matrix."""

    points: np.ndarray
    matrix: np.ndarray | None

    @property
    def width(self) -> float:
        """Horizontal extent of the landmarks in pixels."""
        return float(np.ptp(self.points[:, 0]))

    @property
    def centre(self) -> tuple[float, float]:
        """Middle of the landmarks' bounding box in pixels (x, y)."""
        low, high = self.points[:, :2].min(axis=0), self.points[:, :2].max(axis=0)
        return float((low[0] + high[0]) / 2), float((low[1] + high[1]) / 2)


def _read_verified(path: str, sha256: str) -> bytes:
    """Return the model bytes, or raise EngineUnavailable if missing or wrong."""
    try:
        blob = Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise EngineUnavailable(
            "model_missing", f"No landmark model at {path}."
        ) from exc
    except OSError as exc:
        raise EngineUnavailable("model_missing", f"Cannot read {path}: {exc}.") from exc
    if hashlib.sha256(blob).hexdigest() != sha256:
        raise EngineUnavailable("model_corrupt", f"Landmark model {path} fails sha256.")
    return blob


def check_model(path: str, *, sha256: str = MODEL_SHA256) -> None:
    """Raise EngineUnavailable unless the model file exists and matches its sha256."""
    _read_verified(path, sha256)


def _create(blob: bytes) -> Any:
    """Build a FaceLandmarker from model bytes (imports MediaPipe on first use)."""
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=blob),
        running_mode=vision.RunningMode.IMAGE,
        num_faces=MAX_FACES,
        min_face_detection_confidence=MIN_CONFIDENCE,
        min_face_presence_confidence=MIN_CONFIDENCE,
        output_facial_transformation_matrixes=True,
    )
    try:
        return vision.FaceLandmarker.create_from_options(options)
    except (RuntimeError, ValueError) as exc:
        raise EngineUnavailable("model_corrupt", f"MediaPipe rejected: {exc}") from exc


def get_landmarker(model_path: str) -> Any:
    """Return this process's FaceLandmarker for model_path, creating it once."""
    key = (os.path.realpath(model_path), os.getpid())
    landmarker = _cache.get(key)
    if landmarker is None:
        with _cache_lock:
            landmarker = _cache.get(key)
            if landmarker is None:
                landmarker = _create(_read_verified(model_path, MODEL_SHA256))
                _cache[key] = landmarker
    return landmarker


@atexit.register
def close_all() -> None:
    """Close cached landmarkers (avoids MediaPipe's noisy teardown at exit)."""
    with _cache_lock:
        for key, landmarker in list(_cache.items()):
            if key[1] == os.getpid():
                landmarker.close()
        _cache.clear()


def detect_faces(rgb: np.ndarray, *, model_path: str) -> list[Face]:
    """Detect up to two faces in an RGB uint8 image, largest first."""
    import mediapipe as mp

    landmarker = get_landmarker(model_path)
    image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
    with _detect_lock:
        result = landmarker.detect(image)
    height, width = rgb.shape[:2]
    scale = np.array([width, height, width], dtype=np.float64)
    matrices = result.facial_transformation_matrixes or []
    faces = []
    for index, marks in enumerate(result.face_landmarks):
        points = np.array([(m.x, m.y, m.z) for m in marks], dtype=np.float64) * scale
        matrix = np.asarray(matrices[index]) if index < len(matrices) else None
        faces.append(Face(points=points, matrix=matrix))
    return sorted(faces, key=lambda face: face.width, reverse=True)
