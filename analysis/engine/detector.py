"""Full-range BlazeFace: counts every face in the photo, small ones too.

MediaPipe's face landmarker runs its own short-range detector, which misses faces
smaller than about a fifth of the photo, so whole group photos looked faceless. This
detector (MediaPipe's full-range BlazeFace, 192x192 input, 2304 anchors) runs through
OpenCV's TFLite importer (no extra runtime), once on the whole photo and, unless that
already found two faces, once on each of four overlapping tiles, which finds faces
down to about 30 px in a 1024 px photo.
The model file sits beside the landmark model and is verified by sha256 like it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .errors import EngineUnavailable

DETECTOR_FILE = "face_detection_full_range.tflite"
DETECTOR_SHA256 = "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3"
INPUT_SIZE = 192
GRID = 48  # one anchor per cell of a 48x48 grid (stride 4), fixed size
# MediaPipe's defaults for this model: score 0.5, weighted NMS at IoU 0.3.
MIN_SCORE = 0.5
MIN_OVERLAP = 0.3
# Tiles are this share of the photo's longest side: two per axis, overlapping by a
# tenth of it (wider than any face the whole-photo pass misses, ~60 px at 1024).
TILE_SHARE = 0.55
TILE_EDGE_PX = 2.0

_cache: dict[tuple[str, int], Any] = {}
_cache_lock = threading.Lock()
_run_lock = threading.Lock()


@dataclass(frozen=True)
class Detection:
    """One face box in image pixels (x0, y0, x1, y1) and its score."""

    score: float
    box: tuple[float, float, float, float]

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    def contains(self, x: float, y: float) -> bool:
        """Whether the point lies inside the box."""
        x0, y0, x1, y1 = self.box
        return x0 <= x <= x1 and y0 <= y <= y1


def detector_path(model_path: str) -> str:
    """The detector model lives in the same folder as the landmark model."""
    return str(Path(model_path).with_name(DETECTOR_FILE))


def _read_verified(path: str) -> bytes:
    try:
        blob = Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise EngineUnavailable(
            "model_missing", f"No face detector model at {path}."
        ) from exc
    except OSError as exc:
        raise EngineUnavailable("model_missing", f"Cannot read {path}: {exc}.") from exc
    if hashlib.sha256(blob).hexdigest() != DETECTOR_SHA256:
        raise EngineUnavailable(
            "model_corrupt", f"Face detector model {path} fails sha256."
        )
    return blob


def check_detector(path: str) -> None:
    """Raise EngineUnavailable unless the detector file is present and intact."""
    _read_verified(path)


def _anchors() -> np.ndarray:
    centres = (np.arange(GRID, dtype=np.float32) + 0.5) / GRID
    xs, ys = np.meshgrid(centres, centres)
    return np.stack([xs.ravel(), ys.ravel()], axis=1) * INPUT_SIZE


def _create(blob: bytes) -> tuple[Any, tuple[str, ...], np.ndarray]:
    try:
        net = cv2.dnn.readNetFromTFLite(np.frombuffer(blob, dtype=np.uint8))
    except cv2.error as exc:
        raise EngineUnavailable("model_corrupt", f"OpenCV rejected: {exc}") from exc
    return net, tuple(net.getUnconnectedOutLayersNames()), _anchors()


def get_detector(path: str) -> tuple[Any, tuple[str, ...], np.ndarray]:
    """This process's network, output names and anchors for path, created once."""
    key = (os.path.realpath(path), os.getpid())
    detector = _cache.get(key)
    if detector is None:
        with _cache_lock:
            detector = _cache.get(key)
            if detector is None:
                detector = _create(_read_verified(path))
                _cache[key] = detector
    return detector


def _letterbox(rgb: np.ndarray) -> tuple[np.ndarray, float, int, int]:
    """NCHW float input in [-1, 1], the image fitted into the square, black padded."""
    height, width = rgb.shape[:2]
    scale = INPUT_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(rgb, size, interpolation=method)
    canvas = np.full((INPUT_SIZE, INPUT_SIZE, 3), -1.0, dtype=np.float32)
    top, left = (INPUT_SIZE - size[1]) // 2, (INPUT_SIZE - size[0]) // 2
    canvas[top : top + size[1], left : left + size[0]] = small / 127.5 - 1.0
    return canvas.transpose(2, 0, 1)[np.newaxis].copy(), scale, left, top


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    width = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    height = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    inter = np.clip(width, 0, None) * np.clip(height, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def _weighted_nms(scores: np.ndarray, boxes: np.ndarray) -> list[Detection]:
    """MediaPipe's WEIGHTED suppression: overlapping boxes are averaged by score."""
    order = np.argsort(-scores)
    scores, boxes = scores[order], boxes[order]
    found = []
    while len(scores):
        same = _iou(boxes[0], boxes) > MIN_OVERLAP
        weights = scores[same][:, None]
        box = (boxes[same] * weights).sum(axis=0) / weights.sum()
        found.append(Detection(float(scores[0]), tuple(float(v) for v in box)))
        scores, boxes = scores[~same], boxes[~same]
    return found


def _run(rgb: np.ndarray, path: str) -> list[Detection]:
    """One pass of the network over an image, boxes in that image's pixels."""
    net, outputs, anchors = get_detector(path)
    tensor, scale, left, top = _letterbox(rgb)
    with _run_lock:
        net.setInput(tensor)
        first, second = net.forward(outputs)
    raw_scores, raw_boxes = (first, second) if first.shape[-1] == 1 else (second, first)
    logits = np.clip(raw_scores[0, :, 0], -80.0, 80.0)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = scores >= MIN_SCORE
    if not keep.any():
        return []
    coords = raw_boxes[0, keep, :4]
    centre = coords[:, :2] + anchors[keep]
    half = coords[:, 2:4] / 2.0
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    boxes = (boxes - np.array([left, top, left, top], dtype=np.float32)) / scale
    return _weighted_nms(scores[keep], boxes)


def _tiles(height: int, width: int) -> list[tuple[int, int, int, int]]:
    """(top, left, tile height, tile width) of up to four overlapping tiles."""
    side = max(INPUT_SIZE, round(TILE_SHARE * max(height, width)))

    def starts(length: int) -> list[int]:
        return [0] if length <= side else [0, length - side]

    return [
        (top, left, min(side, height), min(side, width))
        for top in starts(height)
        for left in starts(width)
    ]


def _cut_by_tile(
    box: tuple[float, ...], tile: tuple[int, int, int, int], shape: tuple[int, ...]
) -> bool:
    """Whether the box touches a tile edge that is inside the photo (a partial face)."""
    top, left, height, width = tile
    x0, y0, x1, y1 = box
    edge = TILE_EDGE_PX
    return (
        (left > 0 and x0 < edge)
        or (top > 0 and y0 < edge)
        or (left + width < shape[1] and x1 > width - edge)
        or (top + height < shape[0] and y1 > height - edge)
    )


def _same_face(a: Detection, b: Detection) -> bool:
    """Overlapping boxes, or one mostly inside the other, are one face."""
    box_a, box_b = np.array(a.box), np.array(b.box)
    if _iou(box_a, box_b[None])[0] > MIN_OVERLAP:
        return True
    width = min(box_a[2], box_b[2]) - max(box_a[0], box_b[0])
    height = min(box_a[3], box_b[3]) - max(box_a[1], box_b[1])
    inter = max(0.0, width) * max(0.0, height)
    smaller = min(
        (box_a[2] - box_a[0]) * (box_a[3] - box_a[1]),
        (box_b[2] - box_b[0]) * (box_b[3] - box_b[1]),
    )
    return inter > 0.5 * smaller


def find_faces(rgb: np.ndarray, *, model_path: str) -> list[Detection]:
    """Every face in an RGB uint8 image, largest first.

    model_path is the landmark model's; the detector file is looked up beside it.
    Raises EngineUnavailable when the detector file is missing or corrupt.
    """
    path = detector_path(model_path)
    candidates = _run(rgb, path)
    # Two faces already answer multiple_faces; tiles only look for smaller ones.
    tiles = _tiles(*rgb.shape[:2]) if len(_distinct(candidates)) < 2 else []
    for tile in tiles:
        top, left, height, width = tile
        part = rgb[top : top + height, left : left + width]
        for found in _run(part, path):
            if _cut_by_tile(found.box, tile, rgb.shape):
                continue
            x0, y0, x1, y1 = found.box
            candidates.append(
                Detection(found.score, (x0 + left, y0 + top, x1 + left, y1 + top))
            )
    return sorted(_distinct(candidates), key=lambda d: d.width, reverse=True)


def _distinct(candidates: list[Detection]) -> list[Detection]:
    """One detection per face, the highest-scoring one."""
    faces: list[Detection] = []
    for candidate in sorted(candidates, key=lambda d: d.score, reverse=True):
        if not any(_same_face(candidate, kept) for kept in faces):
            faces.append(candidate)
    return faces
