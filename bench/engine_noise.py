"""Test-retest noise of the engine's scores on perturbed re-shots of a real face.

Each "re-shot" takes skimage's astronaut photo (the one real face shipped with
scikit-image), re-frames it (shift, scale), changes brightness slightly and
re-compresses it as JPEG. The 95th percentile of |score difference| between pairs
of re-shots is the noise per concern. Run:

    .venv/bin/python bench/engine_noise.py [--shots 40] [--seed 7]
"""

from __future__ import annotations

import argparse
import io
import itertools
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.engine import CONCERNS, analyse_photo  # noqa: E402

MODEL = str(ROOT / "var/models/face_landmarker.task")


def reshoot(source: np.ndarray, rng: np.random.Generator) -> bytes:
    """One perturbed re-shot of the face as JPEG bytes."""
    size = int(rng.integers(236, 276))
    top = int(np.clip(135 - size // 2 + rng.integers(-10, 11), 0, 512 - size))
    left = int(np.clip(225 - size // 2 + rng.integers(-10, 11), 0, 512 - size))
    crop = source[top : top + size, left : left + size].astype(np.float32)
    crop *= rng.uniform(0.94, 1.06)
    side = int(rng.integers(700, 840))
    shot = cv2.resize(
        np.clip(crop, 0, 255).astype(np.uint8),
        (side, side),
        interpolation=cv2.INTER_CUBIC,
    )
    out = io.BytesIO()
    Image.fromarray(shot).save(out, format="JPEG", quality=int(rng.integers(70, 96)))
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    source = data.astronaut()
    scores: list[dict[str, int]] = []
    for _ in range(args.shots):
        result = analyse_photo(reshoot(source, rng), model_path=MODEL)
        if result.status != "ok":
            print(f"re-shot failed: {result.failure_code}")
            continue
        scores.append({c: r.score for c, r in result.concerns.items()})
    pairs = list(itertools.combinations(scores, 2))
    print(f"{len(scores)} re-shots, {len(pairs)} pairs (p95 / max |score diff|)")
    noise = {}
    for concern in CONCERNS:
        diffs = np.array([abs(a[concern] - b[concern]) for a, b in pairs])
        values = [s[concern] for s in scores]
        noise[concern] = float(np.percentile(diffs, 95))
        print(
            f"{concern:14s} p95 {noise[concern]:5.1f}  max {diffs.max():4d}  "
            f"scores {min(values)}-{max(values)}"
        )
    print("TEST_RETEST_NOISE =", {c: round(v, 1) for c, v in noise.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
