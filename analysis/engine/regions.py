"""Skin regions over the 478-point mesh and the canonical face crop they sit on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import cv2
import numpy as np

CANONICAL_FACE_WIDTH = 512
CROP_MARGIN = 0.08
HULL_REGIONS = frozenset({"nose_hull"})
REGION_NAMES = (
    "forehead",
    "cheek_right",
    "cheek_left",
    "nose_hull",
    "chin",
    "under_eye_right",
    "under_eye_left",
)
T_ZONE = ("forehead", "nose_hull", "chin")
CHEEKS = ("cheek_right", "cheek_left")
UNDER_EYES = ("under_eye_right", "under_eye_left")
# Subject's right/left eye outer corners, for roll.
EYE_OUTER = (33, 263)


@cache
def region_indices() -> dict[str, tuple[int, ...]]:
    """Region name to mesh indices, from the packaged face_regions.json."""
    text = resources.files(__package__).joinpath("face_regions.json").read_text()
    regions = json.loads(text)["regions"]
    return {name: tuple(regions[name]) for name in REGION_NAMES}


@cache
def mirror_indices() -> np.ndarray:
    """Per landmark, the index of the same point on the other side of the face."""
    text = resources.files(__package__).joinpath("mesh_mirror.json").read_text()
    return np.asarray(json.loads(text)["mirror"], dtype=np.intp)


def mirror_averaged(
    points: np.ndarray, mirrored: np.ndarray, image_width: int
) -> np.ndarray:
    """Landmarks that a mirror flip of the photo leaves mirrored exactly.

    points: the landmarker's points on the photo; mirrored: its points on the
    horizontally flipped photo. The landmarker does not place a face's two sides
    mirror-symmetrically (on the evaluation faces its points move by 0.5-0.9% of
    the face width when the photo is flipped), and under-eye lightness changes by
    about 1.3 L* per pixel of vertical shift, so dark circles moved with the flip.
    The average of both readings (the flipped one mapped back, point by point)
    is the same for a photo and its mirror image.
    """
    back = mirrored[mirror_indices()].copy()
    back[:, 0] = image_width - back[:, 0]
    return (points + back) / 2.0


@dataclass(frozen=True)
class FaceCrop:
    """The face resampled so its landmark width is CANONICAL_FACE_WIDTH pixels."""

    rgb: np.ndarray
    points: np.ndarray
    scale: float


def crop_face(rgb: np.ndarray, points: np.ndarray) -> FaceCrop:
    """Crop around the landmarks (with a margin) and resample to canonical width."""
    height, width = rgb.shape[:2]
    x0, y0 = points[:, 0].min(), points[:, 1].min()
    x1, y1 = points[:, 0].max(), points[:, 1].max()
    pad = CROP_MARGIN * max(x1 - x0, y1 - y0)
    left, top = max(0, int(x0 - pad)), max(0, int(y0 - pad))
    right, bottom = (
        min(width, int(np.ceil(x1 + pad))),
        min(height, int(np.ceil(y1 + pad))),
    )
    scale = CANONICAL_FACE_WIDTH / max(x1 - x0, 1.0)
    size = (
        max(1, round((right - left) * scale)),
        max(1, round((bottom - top) * scale)),
    )
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    crop = cv2.resize(rgb[top:bottom, left:right], size, interpolation=method)
    moved = points[:, :2] - np.array([left, top], dtype=np.float64)
    return FaceCrop(rgb=crop, points=moved * scale, scale=scale)


def _polygon(points: np.ndarray, indices: tuple[int, ...], hull: bool) -> np.ndarray:
    """Integer polygon for cv2.fillPoly."""
    poly = points[list(indices), :2].astype(np.float32)
    if hull:
        poly = cv2.convexHull(poly)[:, 0, :]
    return np.round(poly).astype(np.int32)


def region_masks(points: np.ndarray, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Boolean mask per region for an image of the given (height, width)."""
    masks = {}
    for name, indices in region_indices().items():
        canvas = np.zeros(shape, dtype=np.uint8)
        cv2.fillPoly(canvas, [_polygon(points, indices, name in HULL_REGIONS)], 1)
        masks[name] = canvas.astype(bool)
    return masks


def region_areas(points: np.ndarray) -> dict[str, float]:
    """Area of each region's whole polygon in pixels, parts outside the image too."""
    return {
        name: float(
            cv2.contourArea(
                _polygon(points, indices, name in HULL_REGIONS).astype(np.float32)
            )
        )
        for name, indices in region_indices().items()
    }


def face_oval_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Convex hull of all landmarks, i.e. the whole face including eyes and mouth."""
    canvas = np.zeros(shape, dtype=np.uint8)
    hull = cv2.convexHull(points[:, :2].astype(np.float32))
    cv2.fillConvexPoly(canvas, np.round(hull[:, 0, :]).astype(np.int32), 1)
    return canvas.astype(bool)
