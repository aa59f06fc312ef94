"""Synthetic, localised edits of a real face photo, used to test the metrics."""

from __future__ import annotations

import cv2
import numpy as np

from analysis.engine.regions import region_masks


def _soft(mask: np.ndarray, sigma: float = 3.0) -> np.ndarray:
    """Feathered float mask in [0, 1] with a trailing channel axis."""
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma)
    return soft[..., None]


def _masks(rgb: np.ndarray, points: np.ndarray) -> dict[str, np.ndarray]:
    return region_masks(points, rgb.shape[:2])


def redden(rgb: np.ndarray, points: np.ndarray, region: str) -> np.ndarray:
    """Make one region redder (more a*), keeping its lightness roughly the same."""
    weight = _soft(_masks(rgb, points)[region])
    shift = np.array([28.0, -12.0, -6.0], dtype=np.float32)
    return np.clip(rgb + weight * shift, 0, 255).astype(np.uint8)


def darken(rgb: np.ndarray, points: np.ndarray, regions: tuple[str, ...]) -> np.ndarray:
    """Darken regions (about -12 L*), as dark circles would."""
    masks = _masks(rgb, points)
    weight = _soft(np.logical_or.reduce([masks[r] for r in regions]))
    return np.clip(rgb * (1.0 - 0.22 * weight), 0, 255).astype(np.uint8)


def add_highlights(
    rgb: np.ndarray, points: np.ndarray, regions: tuple[str, ...], seed: int = 1
) -> np.ndarray:
    """Blend white specular spots into regions, like an oily sheen."""
    rng = np.random.default_rng(seed)
    masks = _masks(rgb, points)
    scale = np.ptp(points[:, 0]) / 270.0
    spots = np.zeros(rgb.shape[:2], dtype=np.float32)
    for region in regions:
        ys, xs = np.nonzero(masks[region])
        for index in rng.choice(len(xs), size=14, replace=False):
            radius = max(2, round(rng.uniform(3, 6) * scale))
            cv2.circle(spots, (int(xs[index]), int(ys[index])), radius, 1.0, -1)
    alpha = (cv2.GaussianBlur(spots, (0, 0), 1.5 * scale) * 0.85)[..., None]
    return np.clip(rgb * (1 - alpha) + 250.0 * alpha, 0, 255).astype(np.uint8)


def draw_lines(
    rgb: np.ndarray, points: np.ndarray, region: str = "forehead"
) -> np.ndarray:
    """Draw thin dark horizontal wrinkles across a region."""
    mask = _masks(rgb, points)[region]
    ys, xs = np.nonzero(mask)
    lines = np.zeros(rgb.shape[:2], dtype=np.uint8)
    top, bottom = ys.min(), ys.max()
    for row in np.linspace(top, bottom, 7)[1:-1]:
        xs_line = np.arange(xs.min(), xs.max())
        ys_line = row + 3.0 * np.sin(xs_line / 25.0)
        curve = np.stack([xs_line, ys_line], axis=1).astype(np.int32)
        cv2.polylines(lines, [curve], False, 1, 1)
    weight = _soft(lines.astype(bool) & mask, 0.7) * 1.6
    return np.clip(rgb * (1.0 - 0.45 * np.clip(weight, 0, 1)), 0, 255).astype(np.uint8)


def add_spots(
    rgb: np.ndarray,
    points: np.ndarray,
    region: str,
    colour: tuple[int, int, int],
    count: int = 10,
    seed: int = 2,
) -> np.ndarray:
    """Paint small round spots of a colour into a region (dark spots or red bumps)."""
    rng = np.random.default_rng(seed)
    mask = _masks(rgb, points)[region]
    inner = cv2.erode(mask.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    ys, xs = np.nonzero(inner)
    scale = np.ptp(points[:, 0]) / 270.0
    paint = np.zeros(rgb.shape[:2], dtype=np.float32)
    for index in rng.choice(len(xs), size=count, replace=False):
        radius = max(2, round(rng.uniform(2.5, 4) * scale))
        cv2.circle(paint, (int(xs[index]), int(ys[index])), radius, 1.0, -1)
    alpha = (cv2.GaussianBlur(paint, (0, 0), 1.0) * 0.6)[..., None]
    target = np.array(colour, dtype=np.float32)
    return np.clip(rgb * (1 - alpha) + target * alpha, 0, 255).astype(np.uint8)
