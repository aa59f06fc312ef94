"""Real face photos of the evaluation set (scripts/faces-dev.json) for tests.

Fetched by `make install` (scripts/fetch_faces.py); without them the tests that use
them skip, or fail when SKINCARE_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import numpy as np

from analysis.engine.decode import decode_for_analysis
from analysis.engine.landmarks import detect_faces
from analysis.engine.pipeline import PhotoAnalysis, analyse_rgb
from skincare.testing import skip_or_fail

from .conftest import MODEL_PATH

ROOT = Path(__file__).resolve().parents[3]
FACES = ROOT / "var/faces"
MANIFEST = json.loads((ROOT / "scripts/faces-dev.json").read_text())
# Ordinary, well-lit, frontal faces from dark to light skin (reference ITA of the
# photo: obama 32, test2 17, 0-f15 59), each in its own light.
TONES = ("obama.jpg", "test2.jpg", "0-f15-hao-ph.jpg")


@cache
def photo_rgb(name: str) -> np.ndarray:
    path = FACES / name
    wanted = next(f["sha256"] for f in MANIFEST["faces"] if f["name"] == name)
    if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != wanted:
        skip_or_fail(f"{path} missing or changed: run `make install`")
    return decode_for_analysis(path.read_bytes()).rgb


@cache
def face_points(name: str) -> np.ndarray:
    return detect_faces(photo_rgb(name), model_path=MODEL_PATH)[0].points


def analyse(rgb: np.ndarray) -> PhotoAnalysis:
    return analyse_rgb(np.ascontiguousarray(rgb), model_path=MODEL_PATH)


@cache
def analysed(name: str) -> PhotoAnalysis:
    return analyse(photo_rgb(name))


def outcome(result: PhotoAnalysis) -> str:
    return result.failure_code or "accept"
