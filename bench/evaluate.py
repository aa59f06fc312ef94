"""Evaluate the skin engine on real faces and controlled variants of them (issue #13).

    .venv/bin/python bench/evaluate.py [--quick] [--only PART[,PART]] [--faces NAME,..]
                                       [--write] [--write-noise]
    make evaluate          (fetch the photos, run everything, write the report)

PART is one of gate, redness, tint, tone, resolution, stability, multi (default:
all).
--only runs just the photos and variants those targets need and prints their rows of
the targets table, e.g. `--only gate` (~1 min), `--only redness,tint`.
--write writes analysis/engine/EVALUATION.md and EVALUATION.json (full runs only);
--write-noise also rewrites TEST_RETEST_NOISE in analysis/engine/compare.py.

The photos are the 21 of scripts/faces-dev.json (fetched by scripts/fetch_faces.py
into var/faces) plus single-face crops of the two group photos (scripts/
faces-crops.json). Every face expected to be accepted is varied: exposure (EV, in
linear light), white balance, strong colour casts (on the photo white-balanced by
the engine's estimate of its light, and on the photo as it is), a +6 a* tint on
the cheeks, skin-tone-only changes of the face's skin (tone: CIELAB along the
ITA circle; melanin: optical density), face width 144 and 288 px, mirror flip,
JPEG q95/q60 and re-shots (small re-crop, rescale, exposure jitter, JPEG). No
face is invented: every variant is one of the listed real photos, changed in a
controlled way.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.engine import CONCERNS  # noqa: E402
from analysis.engine import compare as engine_compare  # noqa: E402
from analysis.engine.decode import decode_for_analysis  # noqa: E402
from analysis.engine.errors import ImageRejected  # noqa: E402
from analysis.engine.landmarks import detect_faces  # noqa: E402
from analysis.engine.metrics import MELANIN_OD  # noqa: E402
from analysis.engine.pipeline import ENGINE_VERSION, analyse_photo, analyse_rgb  # noqa: E402
from analysis.engine.quality import EYE_OPENINGS  # noqa: E402
from analysis.engine.regions import face_oval_mask, region_masks  # noqa: E402
from analysis.engine.scoring import refer_to_dermatologist  # noqa: E402

MODEL = str(ROOT / "var/models/face_landmarker.task")
FACES_DIR = ROOT / "var/faces"
MANIFEST = ROOT / "scripts/faces-dev.json"
CROPS = ROOT / "scripts/faces-crops.json"
REPORT = ROOT / "analysis/engine/EVALUATION.md"
REPORT_JSON = ROOT / "analysis/engine/EVALUATION.json"
COMPARE = ROOT / "analysis/engine/compare.py"
PARTS = ("gate", "redness", "tint", "tone", "resolution", "stability", "multi")

# Fairness bands: the varied faces split into thirds by the person's reference ITA
# (the set has too few dark-skinned people to fill Chardon's brown and dark bands).
BANDS = ("darkest third", "middle third", "lightest third")
CROP_SIDE = 512
DARK_EV = -2.5
ORDINARY_EV = (-0.5, 0.5)
BRIGHT_EV = 1.5
# Linear-light channel gains: mild white-balance shifts (ordinary) and strong casts.
WHITE_BALANCE = {"warm": (1.12, 1.0, 0.86), "cool": (0.88, 1.0, 1.14)}
CASTS = {"green": (0.70, 1.0, 0.70), "blue": (0.55, 0.80, 1.45)}
TINT_A = 6.0
TINT_RISE = 8
# Skin-tone-only variants: the skin's ITA moved by these degrees (melanin only).
TONE_SHIFTS = (-20, -10, 10, 20)
# Inner lip contour on the 478-point mesh: teeth and mouth, not skin.
MOUTH_OPENING = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317)
MOUTH_OPENING += (14, 87, 178, 88, 95)
FACE_WIDTHS = (144, 288)
RESOLUTION_FRAME = 2.6
RESHOTS = 3
SEED = 13
# Perturbations whose |score change| defines test-retest noise (a re-take of the
# same face); resolution, exposure and tint are effects, judged against it.
NOISE_KINDS = ("flip", "jpeg95", "jpeg60", "reshot")
# Noise is a 95th percentile: up to 5% of re-takes may exceed it per concern.
MAX_FLAGGED_RESHOTS = 0.05


# --- photos -------------------------------------------------------------------------


@dataclass
class Face:
    """One photo of the evaluation set (a fetched file or a crop of one)."""

    name: str
    expected: str
    shows: str
    data: bytes | None = None
    rgb: np.ndarray | None = None
    kind: str = "photo"


def load_faces(names: Iterable[str] | None = None) -> list[Face]:
    """The fetched photos and the group-photo crops, optionally only some names."""
    wanted = set(names) if names else None
    manifest = json.loads(MANIFEST.read_text())
    faces: list[Face] = []
    for entry in manifest["faces"]:
        path = FACES_DIR / entry["name"]
        if not path.exists():
            raise SystemExit(f"{path} missing: run `python scripts/fetch_faces.py`")
        faces.append(
            Face(
                entry["name"],
                entry["expected"],
                entry["shows"],
                data=path.read_bytes(),
            )
        )
    for crop in json.loads(CROPS.read_text())["crops"]:
        faces.append(
            Face(
                crop["name"],
                crop["expected"],
                crop["shows"],
                rgb=crop_rgb(crop),
                kind="crop",
            )
        )
    if wanted:
        faces = [f for f in faces if f.name in wanted or f.name.split(".")[0] in wanted]
    return faces


def crop_rgb(crop: dict[str, Any]) -> np.ndarray:
    """A group photo's crop, upscaled so its longer side is CROP_SIDE."""
    source = decode_for_analysis(
        (FACES_DIR / crop["source"]).read_bytes(), max_side=100_000
    ).rgb
    x0, y0, x1, y1 = crop["box"]
    part = source[y0:y1, x0:x1]
    scale = CROP_SIDE / max(part.shape[:2])
    size = (round(part.shape[1] * scale), round(part.shape[0] * scale))
    return np.ascontiguousarray(cv2.resize(part, size, interpolation=cv2.INTER_CUBIC))


def base_rgb(face: Face) -> np.ndarray | None:
    """The face as the engine sees it (decoded at analysis scale)."""
    if face.rgb is not None:
        return face.rgb
    try:
        return decode_for_analysis(face.data).rgb
    except ImageRejected:
        return None


# --- variants -----------------------------------------------------------------------


def to_linear(rgb: np.ndarray) -> np.ndarray:
    value = rgb.astype(np.float32) / 255.0
    return np.where(value <= 0.04045, value / 12.92, ((value + 0.055) / 1.055) ** 2.4)


def to_srgb(linear: np.ndarray) -> np.ndarray:
    value = np.clip(linear, 0.0, 1.0)
    value = np.where(
        value <= 0.0031308, value * 12.92, 1.055 * value ** (1 / 2.4) - 0.055
    )
    return np.round(value * 255.0).astype(np.uint8)


def exposure(rgb: np.ndarray, ev: float) -> np.ndarray:
    """The same scene with ev stops more (or less) light."""
    return to_srgb(to_linear(rgb) * 2.0**ev)


def channel_gains(rgb: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    """White balance / colour cast as per-channel gains in linear light."""
    return to_srgb(to_linear(rgb) * np.array(gains, dtype=np.float32))


def white_balanced(rgb: np.ndarray, green: float, blue: float) -> np.ndarray:
    """The photo with its light (the engine's estimate, log units) made white.

    Log gains (r, g, b) = (green/3 + blue, -2 green/3, green/3 - blue) undo a light
    whose green axis is `green` and warm-cool axis `blue`, keeping the mean level.
    """
    gains = np.exp([green / 3.0 + blue, -2.0 * green / 3.0, green / 3.0 - blue])
    return channel_gains(rgb, tuple(float(g) for g in gains))


def jpeg(rgb: np.ndarray, quality: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def largest_face_points(rgb: np.ndarray) -> np.ndarray | None:
    faces = detect_faces(np.ascontiguousarray(rgb), model_path=MODEL)
    return faces[0].points if faces else None


def cheek_tint(rgb: np.ndarray, points: np.ndarray, delta_a: float) -> np.ndarray:
    """Add delta_a to CIELAB a* on both cheek regions, with a soft (feathered) edge."""
    masks = region_masks(points, rgb.shape[:2])
    cheeks = (masks["cheek_right"] | masks["cheek_left"]).astype(np.float32)
    width = float(np.ptp(points[:, 0]))
    soft = cv2.GaussianBlur(cheeks, (0, 0), max(1.0, 0.03 * width))
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    lab[..., 1] += delta_a * soft
    back = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    return np.round(np.clip(back, 0.0, 1.0) * 255.0).astype(np.uint8)


def skin_weight(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """0-1 weight of the face's skin: the landmarks' hull less the eye and mouth
    openings (grown a little), feathered; 1 on every region the engine measures.

    The feather must not reach into a region: under-eye skin given 10% less of a
    change than its cheek reads as a dark circle that the change itself drew.
    """
    width = float(np.ptp(points[:, 0]))
    skin = face_oval_mask(points, shape).astype(np.uint8)
    holes = np.zeros(shape, dtype=np.uint8)
    for opening in (*EYE_OPENINGS, MOUTH_OPENING):
        outline = np.round(points[list(opening), :2]).astype(np.int32)
        cv2.fillPoly(holes, [outline], 1)
    grow = max(3, round(0.04 * width)) | 1
    holes = cv2.dilate(holes, np.ones((grow, grow), np.uint8))
    skin = (skin & (1 - holes)).astype(np.float32)
    soft = cv2.GaussianBlur(skin, (0, 0), max(1.0, 0.02 * width))
    measured = np.logical_or.reduce(list(region_masks(points, shape).values()))
    soft[measured] = 1.0
    return soft


def cheek_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    masks = region_masks(points, shape)
    return masks["cheek_right"] | masks["cheek_left"]


def ita_of(lab_pixels: np.ndarray) -> float:
    """ITA (degrees) of the median L*, b* of N x 3 CIELAB pixels."""
    light, b_star = np.median(lab_pixels[:, 0]), np.median(lab_pixels[:, 2])
    return math.degrees(math.atan2(float(light) - 50.0, float(b_star)))


def skin_tone_shift(
    rgb: np.ndarray, points: np.ndarray, delta_ita: float
) -> np.ndarray:
    """The same face with more (delta_ita < 0) or less melanin, as a CIELAB shift.

    The face's skin (skin_weight) gets one L*, b* offset that turns its reference
    ITA (median L*, b* of the cheeks) by delta_ita degrees along the ITA circle
    around (L* 50, b* 0), the radius kept. a* is left as it is (redness relative to
    the face's own baseline unchanged); the rest of the photo (background, clothes,
    eyes, teeth, hence the engine's estimate of exposure and light) is untouched.
    """
    soft = skin_weight(points, rgb.shape[:2])
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    cheeks = cheek_mask(points, rgb.shape[:2])
    light = float(np.median(lab[..., 0][cheeks]))
    b_star = float(np.median(lab[..., 2][cheeks]))
    radius = math.hypot(light - 50.0, b_star)
    angle = math.atan2(light - 50.0, b_star) + math.radians(delta_ita)
    lab[..., 0] += (50.0 + radius * math.sin(angle) - light) * soft
    lab[..., 2] += (radius * math.cos(angle) - b_star) * soft
    lab[..., 0] = np.clip(lab[..., 0], 0.0, 100.0)
    back = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    return np.round(np.clip(back, 0.0, 1.0) * 255.0).astype(np.uint8)


def melanin_shift(rgb: np.ndarray, points: np.ndarray, delta_ita: float) -> np.ndarray:
    """The same face with melanin added (delta_ita < 0) or removed in optical density.

    Beer-Lambert: the skin's (skin_weight) linear reflectance is multiplied by
    10 ** (-k * MELANIN_OD) per channel, i.e. optical density added along the melanin
    absorption direction the engine unmixes with (Tsumura et al.), k chosen by
    bisection so the cheeks' reference ITA moves by delta_ita degrees. Haemoglobin
    is untouched by construction, so this checks everything but that vector: gate,
    masks, clipping, shading and the other concerns' dependence on lightness.
    """
    soft = skin_weight(points, rgb.shape[:2])[..., None]
    cheeks = cheek_mask(points, rgb.shape[:2])
    linear = to_linear(rgb)
    direction = np.array(MELANIN_OD, dtype=np.float32) / max(MELANIN_OD)
    pixels = linear[cheeks]

    def ita_at(k: float) -> float:
        shifted = to_srgb(pixels * 10.0 ** (-k * direction))[None]
        lab = cv2.cvtColor(shifted.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
        return ita_of(lab[0])

    target = ita_at(0.0) + delta_ita
    low, high = (0.0, 1.5) if delta_ita < 0 else (-1.5, 0.0)
    for _ in range(30):  # ITA falls as melanin (k) rises
        mid = (low + high) / 2
        if ita_at(mid) > target:
            low = mid
        else:
            high = mid
    k = (low + high) / 2
    return to_srgb(linear * 10.0 ** (-k * direction * soft))


def at_face_width(rgb: np.ndarray, points: np.ndarray, width: int) -> np.ndarray:
    """A square frame RESOLUTION_FRAME face widths wide, scaled to that face width."""
    x0, y0 = points[:, 0].min(), points[:, 1].min()
    x1, y1 = points[:, 0].max(), points[:, 1].max()
    face = x1 - x0
    side = RESOLUTION_FRAME * face
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    h, w = rgb.shape[:2]
    left, top = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    right, bottom = int(min(w, cx + side / 2)), int(min(h, cy + side / 2))
    scale = width / face
    part = rgb[top:bottom, left:right]
    size = (round(part.shape[1] * scale), round(part.shape[0] * scale))
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(part, size, interpolation=method))


def reshot(rgb: np.ndarray, rng: np.random.Generator) -> bytes:
    """A re-take: trim up to 6% per side, rescale 0.9-1.1, +-0.2 EV, JPEG q85-95."""
    h, w = rgb.shape[:2]
    top, bottom = (int(rng.uniform(0, 0.06) * h) for _ in range(2))
    left, right = (int(rng.uniform(0, 0.06) * w) for _ in range(2))
    part = rgb[top : h - bottom, left : w - right]
    scale = rng.uniform(0.9, 1.1)
    if min(part.shape[:2]) * scale < 260:
        scale = 260 / min(part.shape[:2])
    size = (round(part.shape[1] * scale), round(part.shape[0] * scale))
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    part = cv2.resize(part, size, interpolation=method)
    part = exposure(part, rng.uniform(-0.2, 0.2))
    return jpeg(part, int(rng.integers(85, 96)))


# --- running the engine -------------------------------------------------------------


def summarise(result: Any) -> dict[str, Any]:
    """The parts of a PhotoAnalysis the evaluation reads."""
    out: dict[str, Any] = {
        "status": result.status,
        "code": result.failure_code or "accept",
        "scores": {c: r.score for c, r in result.concerns.items()},
        "confidence": {c: r.confidence for c, r in result.concerns.items()},
        "severe": sorted(c for c, r in result.concerns.items() if r.severe),
        "referral": refer_to_dermatologist(
            {c: {"severe": r.severe} for c, r in result.concerns.items()}
        ),
        "ita": None if result.skin_tone is None else round(result.skin_tone.ita_deg, 1),
    }
    if result.image is not None:
        out["face_width"] = round(result.image.face_width_px, 1)
        out["face_lightness"] = round(result.image.face_lightness, 1)
        image = result.image
        out["light"] = [
            round(v, 3)
            for v in (
                image.illuminant_green,
                image.illuminant_blue,
                image.sclera_green,
                image.sclera_blue,
                image.sclera_pixels,
                image.sclera_lightness,
            )
        ]
    return out


def run(image: bytes | np.ndarray) -> dict[str, Any]:
    if isinstance(image, bytes):
        return summarise(analyse_photo(image, model_path=MODEL))
    return summarise(analyse_rgb(np.ascontiguousarray(image), model_path=MODEL))


def reference_ita(rgb: np.ndarray, points: np.ndarray | None) -> float | None:
    """The person's ITA from the original photo, independent of the engine's masks:
    median L* and b* over the cheek polygons (hair often covers the forehead)."""
    if points is None:
        return None
    masks = region_masks(points, rgb.shape[:2])
    union = masks["cheek_right"] | masks["cheek_left"]
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    light = float(np.median(lab[..., 0][union]))
    b_star = float(np.median(lab[..., 2][union]))
    return round(math.degrees(math.atan2(light - 50.0, b_star)), 1)


def band_order(item: str | tuple[str, Any]) -> int:
    label = item if isinstance(item, str) else item[0]
    return BANDS.index(label.split(" (")[0])


def assign_bands(ev: Evaluation) -> None:
    """Label each varied face's base result with its ITA third (name and range)."""
    ranked = sorted(
        (r["reference_ita"], name)
        for name, r in ev.base.items()
        if r["reference_ita"] is not None and should_vary(ev.faces[name])
    )
    groups = np.array_split(np.arange(len(ranked)), len(BANDS)) if ranked else []
    for label, members in zip(BANDS, groups, strict=False):
        if not len(members):
            continue
        low, high = ranked[members[0]][0], ranked[members[-1]][0]
        for index in members:
            ev.base[ranked[index][1]]["band"] = f"{label} (ITA {low:.0f} to {high:.0f})"


@dataclass
class Evaluation:
    """Every analysis made, keyed by face and variant name."""

    parts: tuple[str, ...]
    quick: bool
    base: dict[str, dict[str, Any]] = field(default_factory=dict)
    faces: dict[str, Face] = field(default_factory=dict)
    variants: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, face: str, variant: str, result: dict[str, Any]) -> None:
        self.variants.setdefault(face, {})[variant] = result


def should_vary(face: Face) -> bool:
    """Faces a reviewer expects to be analysed (accept, or either way)."""
    return face.expected in ("accept", "either")


def evaluate(
    parts: Iterable[str] = PARTS,
    *,
    quick: bool = False,
    names: Iterable[str] | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> Evaluation:
    """Analyse the photos and the variants the parts need."""
    parts = tuple(parts)
    started = time.perf_counter()
    ev = Evaluation(parts=parts, quick=quick)
    faces = load_faces(names)
    if quick:
        faces = [f for f in faces if f.kind == "photo" or f.name.endswith("face4")]
    rng = np.random.default_rng(SEED)
    only_multi = set(parts) == {"multi"}
    for face in faces:
        if only_multi and face.expected != "multiple_faces":
            continue
        ev.faces[face.name] = face
        rgb = base_rgb(face)
        result = run(face.data if face.data is not None else face.rgb)
        points = largest_face_points(rgb) if rgb is not None else None
        result["reference_ita"] = (
            reference_ita(rgb, points) if rgb is not None else None
        )
        result["band"] = None
        ev.base[face.name] = result
        log(f"{face.name:28s} expected {face.expected:15s} got {result['code']}")
        if not should_vary(face) or rgb is None or points is None or only_multi:
            continue
        light = result.get("light")
        own_light = (light[0], light[1]) if light else (0.0, 0.0)
        for variant, image in variants_for(rgb, points, parts, quick, rng, own_light):
            ev.add(face.name, variant, run(image))
    assign_bands(ev)
    ev.seconds = time.perf_counter() - started
    return ev


def variants_for(
    rgb: np.ndarray,
    points: np.ndarray,
    parts: tuple[str, ...],
    quick: bool,
    rng: np.random.Generator,
    own_light: tuple[float, float] = (0.0, 0.0),
) -> Iterable[tuple[str, bytes | np.ndarray]]:
    """(name, image) of each variant of one face that the parts need.

    own_light: the engine's estimate of the photo's light (green, blue); strong
    casts are made both on the photo white-balanced by it (cast_*: a known cast
    relative to white light) and on the photo as it is (photocast_*: where the
    photo's own tint can cancel part of the cast).
    """
    wants = set(parts)
    if wants & {"gate", "redness"}:
        yield f"ev{DARK_EV:+.1f}", exposure(rgb, DARK_EV)
        for ev in ORDINARY_EV:
            yield f"ev{ev:+.1f}", exposure(rgb, ev)
        yield f"ev{BRIGHT_EV:+.1f}", exposure(rgb, BRIGHT_EV)
        for name, gains in WHITE_BALANCE.items():
            yield f"wb_{name}", channel_gains(rgb, gains)
        neutral = white_balanced(rgb, *own_light)
        for name, gains in CASTS.items():
            yield f"cast_{name}", channel_gains(neutral, gains)
            yield f"photocast_{name}", channel_gains(rgb, gains)
    if wants & {"tint", "redness"}:
        yield "tint_cheeks", cheek_tint(rgb, points, TINT_A)
    if "tone" in wants:
        for shift in TONE_SHIFTS:
            yield f"tone{shift:+d}", skin_tone_shift(rgb, points, shift)
            yield f"melanin{shift:+d}", melanin_shift(rgb, points, shift)
    if "resolution" in wants:
        for width in FACE_WIDTHS:
            yield f"width{width}", at_face_width(rgb, points, width)
    if wants & {"stability", "gate", "redness", "tint", "resolution"}:
        # Noise is needed to judge most targets; flip and JPEG are cheap.
        yield "flip", np.ascontiguousarray(rgb[:, ::-1])
        yield "jpeg95", jpeg(rgb, 95)
        yield "jpeg60", jpeg(rgb, 60)
    if "stability" in wants:
        for index in range(1 if quick else RESHOTS):
            yield f"reshot{index + 1}", reshot(rgb, rng)


# --- statistics ---------------------------------------------------------------------


def accepted(result: dict[str, Any] | None) -> bool:
    return bool(result) and result["status"] == "ok"


def deltas(ev: Evaluation, kind: str, concern: str) -> dict[str, list[float]]:
    """Per face, |score(variant) - score(base)| for variants whose name starts with kind
    (both accepted). For width, the 144 px variant against the 288 px one."""
    out: dict[str, list[float]] = {}
    for name, variants in ev.variants.items():
        if kind == "width":
            a, b = variants.get("width144"), variants.get("width288")
            pairs = [(a, b)]
        else:
            base = ev.base[name]
            pairs = [(v, base) for k, v in variants.items() if k.startswith(kind)]
        for a, b in pairs:
            if (
                accepted(a)
                and accepted(b)
                and concern in a["scores"].keys() & b["scores"]
            ):
                out.setdefault(name, []).append(
                    abs(a["scores"][concern] - b["scores"][concern])
                )
    return out


def p95(values: list[float]) -> float | None:
    return round(float(np.percentile(values, 95)), 1) if values else None


def pooled(per_face: dict[str, list[float]]) -> list[float]:
    return [v for values in per_face.values() for v in values]


def measured_noise(ev: Evaluation) -> dict[str, float] | None:
    """Per concern, p95 of |score change| over every re-take kind, and at least the
    p95 over re-shots alone (None if not run).

    A re-shot is the re-take progress compares in real use; a flip or a JPEG
    re-encode moves scores less, and pooled with re-shots they pulled the noise
    below what re-shots do, so that progress called re-shots real change.
    """
    if not any(k.startswith("reshot") for v in ev.variants.values() for k in v):
        return None
    noise = {}
    for concern in CONCERNS:
        values = [v for kind in NOISE_KINDS for v in pooled(deltas(ev, kind, concern))]
        reshots = pooled(deltas(ev, "reshot", concern))
        noise[concern] = max(p95(values) or 0.0, p95(reshots) or 0.0)
    return noise


def noise_limits(ev: Evaluation) -> tuple[dict[str, float], str]:
    """The noise targets are judged against: this run's, else the published one."""
    noise = measured_noise(ev)
    if noise is not None:
        return (
            {c: max(v, engine_compare.NOISE_FLOOR) for c, v in noise.items()},
            "measured in this run",
        )
    return (
        {c: engine_compare.retest_noise(c) for c in CONCERNS},
        "published TEST_RETEST_NOISE",
    )


def correlation(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 4 or np.std(xs) == 0 or np.std(ys) == 0:
        return None
    return round(float(np.corrcoef(xs, ys)[0, 1]), 3)


ORDINARY_VARIANTS = ("ev-0.5", "ev+0.5", "wb_", "flip", "jpeg", "reshot", "width288")


def ordinary_items(ev: Evaluation) -> list[tuple[str, dict[str, Any]]]:
    """Base photos a reviewer expects accepted plus their ordinary variants."""
    items = []
    for name, face in ev.faces.items():
        if face.expected != "accept":
            continue
        items.append((name, ev.base[name]))
        for variant, result in ev.variants.get(name, {}).items():
            if variant.startswith(ORDINARY_VARIANTS):
                items.append((name, result))
    return items


def acceptance_by_band(ev: Evaluation) -> dict[str, dict[str, Any]]:
    """Per band: share of ordinary items accepted, and of the accepted ones the
    share flagged severe redness (what sends people to a dermatologist)."""
    bands: dict[str, list[dict[str, Any]]] = {}
    for name, result in ordinary_items(ev):
        band = ev.base[name]["band"]
        if band:
            bands.setdefault(band, []).append(result)
    out = {}
    for band, results in bands.items():
        ok = [r for r in results if accepted(r)]
        red = sum("redness" in r.get("severe", ()) for r in ok)
        out[band] = {
            "n": len(results),
            "accepted": round(100.0 * len(ok) / len(results), 1),
            "severe_redness": round(100.0 * red / len(ok), 1) if ok else None,
        }
    return out


def refusals_by_band(ev: Evaluation, prefix: str, code: str) -> dict[str, Any]:
    """Per band: share of the variants refused (any reason) and as `code`."""
    bands: dict[str, list[str]] = {}
    for name, variants in ev.variants.items():
        band = ev.base[name]["band"]
        for variant, result in variants.items():
            if variant.startswith(prefix) and band:
                bands.setdefault(band, []).append(result["code"])
    return {
        band: {
            "n": len(codes),
            "refused": round(100.0 * sum(c != "accept" for c in codes) / len(codes), 1),
            "as_code": round(100.0 * sum(c == code for c in codes) / len(codes), 1),
        }
        for band, codes in bands.items()
    }


def concern_correlations(ev: Evaluation) -> dict[str, dict[str, Any]]:
    """Over accepted ordinary items: corr(score, engine ITA), corr(score, face L*),
    and the median change per +1 EV from the +-0.5 EV variants."""
    items = [r for _, r in ordinary_items(ev) if accepted(r) and r["ita"] is not None]
    out = {}
    for concern in CONCERNS:
        rows = [r for r in items if concern in r["scores"]]
        scores = [r["scores"][concern] for r in rows]
        per_ev = []
        for variants in ev.variants.values():
            low, high = variants.get("ev-0.5"), variants.get("ev+0.5")
            if accepted(low) and accepted(high) and concern in low["scores"]:
                per_ev.append(high["scores"][concern] - low["scores"][concern])
        out[concern] = {
            "n": len(rows),
            "corr_ita": correlation([r["ita"] for r in rows], scores),
            "corr_lightness": correlation([r["face_lightness"] for r in rows], scores),
            "per_ev_median": round(float(np.median(per_ev)), 1) if per_ev else None,
            "per_ev_max": round(float(np.max(np.abs(per_ev))), 1) if per_ev else None,
        }
    return out


def distributions(ev: Evaluation) -> dict[str, dict[str, Any]]:
    """Score percentiles (5/25/50/75/95) over accepted base photos and crops."""
    out = {}
    for concern in CONCERNS:
        values = [
            r["scores"][concern]
            for r in ev.base.values()
            if accepted(r) and concern in r["scores"]
        ]
        if values:
            out[concern] = {
                "n": len(values),
                "percentiles": [
                    round(float(v)) for v in np.percentile(values, [5, 25, 50, 75, 95])
                ],
                "severe": sum(v >= 75 for v in values),
            }
    return out


def noise_by_size(ev: Evaluation) -> dict[str, dict[str, Any]]:
    """Re-take p95 per concern for faces narrower vs wider than REFERENCE_FACE_WIDTH
    (the point where progress starts scaling noise up)."""
    limit = engine_compare.REFERENCE_FACE_WIDTH
    out: dict[str, dict[str, Any]] = {}
    for concern in CONCERNS:
        groups: dict[str, list[float]] = {"narrower": [], "wider": []}
        for kind in NOISE_KINDS:
            for name, values in deltas(ev, kind, concern).items():
                width = ev.base[name].get("face_width") or 0.0
                groups["narrower" if width < limit else "wider"].extend(values)
        out[concern] = {group: p95(values) for group, values in groups.items()}
    return out


STABILITY_KINDS = ("flip", "jpeg95", "jpeg60", "width", "reshot")


def stability(ev: Evaluation) -> dict[str, dict[str, Any]]:
    """Per concern and kind: pooled p95 of |delta|, and each face's worst |delta|
    summarised as median face / worst face."""
    out: dict[str, dict[str, Any]] = {}
    for concern in CONCERNS:
        row = {}
        for kind in STABILITY_KINDS:
            per_face = deltas(ev, kind, concern)
            if not per_face:
                continue
            worst = [max(v) for v in per_face.values()]
            row[kind] = {
                "faces": len(per_face),
                "p95": p95(pooled(per_face)),
                "median_face": round(float(np.median(worst)), 1),
                "worst_face": round(float(max(worst)), 1),
                "worst_name": max(per_face, key=lambda n: max(per_face[n])),
            }
        out[concern] = row
    return out


# --- targets ------------------------------------------------------------------------


@dataclass
class Target:
    item: int
    part: str
    text: str
    measured: str
    passed: bool | None
    informational: bool = False

    @property
    def verdict(self) -> str:
        if self.informational:
            return "info"
        return "not run" if self.passed is None else "PASS" if self.passed else "MISS"


def targets(ev: Evaluation) -> list[Target]:
    noise, _ = noise_limits(ev)
    rows: list[Target] = []
    ran = set(ev.parts)

    if ran & {"gate", "redness"}:
        refused = [
            f"{n} ({ev.base[n]['code']})"
            for n, f in ev.faces.items()
            if f.expected == "accept" and not accepted(ev.base[n])
        ]
        rows.append(
            Target(
                2,
                "gate",
                "No ordinary, well-lit, single frontal face refused",
                f"{len(refused)} refused"
                + (f": {', '.join(refused)}" if refused else ""),
                not refused,
            )
        )
        bands = acceptance_by_band(ev)
        rates = [b["accepted"] for b in bands.values()]
        spread = max(rates) - min(rates) if rates else 0.0
        rows.append(
            Target(
                2,
                "gate",
                "Ordinary photos and variants: ITA bands accepted within 10 points",
                ", ".join(
                    f"{band} {b['accepted']:.0f}% of {b['n']}"
                    for band, b in sorted(bands.items(), key=band_order)
                )
                + f"; spread {spread:.0f}",
                len(rates) > 1 and spread <= 10.0,
            )
        )
        for prefix, code, what in (
            (f"ev{DARK_EV:+.1f}", "too_dark", f"Darkened ({DARK_EV:+.1f} EV)"),
            (
                "cast_",
                "colour_cast",
                "Colour-cast (strong green / blue, on the photo made white)",
            ),
        ):
            refusal = refusals_by_band(ev, prefix, code)
            rows.append(
                Target(
                    2,
                    "gate",
                    f"{what} variants refused for every tone",
                    ", ".join(
                        f"{band} {b['refused']:.0f}% of {b['n']} "
                        f"({b['as_code']:.0f}% as {code})"
                        for band, b in sorted(refusal.items(), key=band_order)
                    ),
                    bool(refusal)
                    and all(b["refused"] == 100.0 for b in refusal.values()),
                )
            )
    if ran & {"gate", "redness"}:
        rows.append(photo_cast_row(ev))
        corr = concern_correlations(ev)["redness"]
        rows.append(
            Target(
                3,
                "redness",
                "|corr(redness, ITA)| <= 0.3 over accepted ordinary photos/variants",
                f"corr {corr['corr_ita']} (n {corr['n']})",
                corr["corr_ita"] is not None and abs(corr["corr_ita"]) <= 0.3,
            )
        )
    if ran & {"tint", "redness"}:
        rows.extend(tint_targets(ev, noise))
    if ran & {"gate", "redness"}:
        rows.append(referral_row(ev))
    if "tone" in ran:
        rows.extend(tone_targets(ev, noise))
    if ran & {"gate", "multi"}:
        group = [n for n, f in ev.faces.items() if f.expected == "multiple_faces"]
        got = {n: ev.base[n]["code"] for n in group}
        rows.append(
            Target(
                4,
                "multi",
                "Group photos answer multiple_faces",
                ", ".join(f"{n}: {c}" for n, c in got.items()),
                bool(got) and all(c == "multiple_faces" for c in got.values()),
            )
        )
    if "resolution" in ran:
        rows.append(resolution_target(ev, noise))
    if ran & {"stability", "gate", "redness", "tint", "resolution"}:
        for kind in ("flip", "jpeg60"):
            rows.append(stability_target(ev, kind, noise))
    if "stability" in ran:
        rows.append(progress_target(ev))
    return rows


def photo_cast_row(ev: Evaluation) -> Target:
    """The same casts on the photo as it is: where they cancel its own tint, the
    result is a photo in near-white light, which the gate cannot tell apart."""
    codes = [
        (name, variant, result["code"])
        for name, variants in ev.variants.items()
        for variant, result in variants.items()
        if variant.startswith("photocast_")
    ]
    passed = [f"{n} {v.split('_', 1)[1]}" for n, v, c in codes if c == "accept"]
    return Target(
        2,
        "gate",
        "For information: the same casts on the photo as it is (a cast can cancel "
        "the photo's own tint)",
        f"{sum(c != 'accept' for _, _, c in codes)} of {len(codes)} refused"
        + (f"; accepted: {', '.join(passed)}" if passed else ""),
        None,
        informational=True,
    )


def tint_targets(ev: Evaluation, noise: dict[str, float]) -> list[Target]:
    rises: dict[str, int] = {}
    raw: dict[str, int] = {}
    others: dict[str, list[float]] = {}
    for name, variants in ev.variants.items():
        tinted, base = variants.get("tint_cheeks"), ev.base[name]
        if not (accepted(tinted) and accepted(base)):
            continue
        # Near the top of the scale a face cannot rise 8 more: it must reach 100.
        need = min(TINT_RISE, 100 - base["scores"]["redness"])
        raw[name] = tinted["scores"]["redness"] - base["scores"]["redness"]
        rises[name] = raw[name] - need
        for concern in CONCERNS:
            if concern != "redness" and concern in tinted["scores"]:
                others.setdefault(concern, []).append(
                    abs(tinted["scores"][concern] - base["scores"][concern])
                )
    worst = min(rises, key=rises.get) if rises else None
    rows = [
        Target(
            3,
            "tint",
            f"+{TINT_A:.0f} a* cheek tint raises redness >= {TINT_RISE} on every face "
            "(or to 100)",
            f"{sum(r < 0 for r in rises.values())} of {len(rises)} faces short; "
            f"rise median {np.median(list(raw.values())):+.0f}, smallest "
            f"{min(raw.values()):+d}; tightest {worst} {raw[worst]:+d} "
            f"({rises[worst]:+d} vs the rise needed)"
            if rises
            else "no accepted tinted face",
            bool(rises) and min(rises.values()) >= 0,
        )
    ]
    beyond = {c: p95(v) for c, v in others.items() if v and p95(v) > noise[c]}
    rows.append(
        Target(
            3,
            "tint",
            "The tint moves no other concern beyond noise (p95 over faces)",
            ", ".join(f"{c} p95 {v} > {noise[c]:.1f}" for c, v in beyond.items())
            or "all within noise",
            bool(others) and not beyond,
        )
    )
    return rows


def referral_by_band(ev: Evaluation) -> dict[str, dict[str, Any]]:
    """Per ITA third, over accepted ordinary items: the share referred to a
    dermatologist and how many referrals each concern triggered."""
    bands: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, result in ordinary_items(ev):
        band = ev.base[name]["band"]
        if band and accepted(result):
            bands.setdefault(band, []).append((name, result))
    out = {}
    for band, items in bands.items():
        by_concern: dict[str, int] = {}
        for _, r in items:
            for concern in r["referral"]:
                by_concern[concern] = by_concern.get(concern, 0) + 1
        referred = [n for n, r in items if r["referral"]]
        out[band] = {
            "n": len(items),
            "referred": round(100.0 * len(referred) / len(items), 1),
            "by_concern": dict(sorted(by_concern.items())),
            "faces": sorted(set(referred)),
        }
    return out


def referral_row(ev: Evaluation) -> Target:
    bands = referral_by_band(ev)
    return Target(
        3,
        "redness",
        "For information: 'see a dermatologist' rate per ITA third over accepted "
        "ordinary photos and variants (concern: referrals)",
        "; ".join(
            f"{band} {b['referred']:.0f}% of {b['n']}"
            + (
                " ("
                + ", ".join(f"{c}: {k}" for c, k in b["by_concern"].items())
                + "; faces "
                + ", ".join(b["faces"])
                + ")"
                if b["by_concern"]
                else ""
            )
            for band, b in sorted(bands.items(), key=band_order)
        ),
        None,
        informational=True,
    )


TONE_KINDS = {
    "melanin": "melanin optical density added / removed (Beer-Lambert)",
    "tone": "CIELAB L*, b* turned along the ITA circle, a* kept",
}
# The CIELAB turn is reported, not judged: it is not a change of melanin alone. It
# adds one L* offset where melanin scales reflectance (so it moves every L*
# difference once read at a reference lightness), and on skin darker than L* 50 the
# circle lowers b* as the skin darkens, where melanin raises it: in optical density
# that is haemoglobin added (biden.jpg, cheek L* 46: b* 16.9 -> 14.6 at -20 degrees,
# against 17.7 with melanin added).
JUDGED_TONE_KINDS = ("melanin",)


def tone_only(ev: Evaluation, kind: str) -> dict[str, Any]:
    """Skin-tone-only variants of one kind (tone / melanin) against their face's
    original photo: refusals, newly referred concerns, per concern |score change|
    (both accepted)."""
    judged, refused, new = 0, [], []
    changes: dict[str, list[float]] = {c: [] for c in CONCERNS}
    worst: dict[str, tuple[float, str]] = {}
    for name, variants in ev.variants.items():
        base = ev.base[name]
        for variant, result in variants.items():
            shift = variant.removeprefix(kind)
            if shift == variant or shift[:1] not in "+-" or not accepted(base):
                continue
            if not accepted(result):
                refused.append(f"{name} {shift} ({result['code']})")
                continue
            judged += 1
            added = sorted(set(result["referral"]) - set(base["referral"]))
            if added:
                new.append(
                    f"{name} {shift} ("
                    + ", ".join(
                        f"{c} {base['scores'][c]}->{result['scores'][c]}" for c in added
                    )
                    + ")"
                )
            for concern in result["scores"].keys() & base["scores"]:
                delta = result["scores"][concern] - base["scores"][concern]
                changes[concern].append(abs(delta))
                if abs(delta) > worst.get(concern, (-1.0, ""))[0]:
                    worst[concern] = (abs(delta), f"{name} {shift} {delta:+d}")
    return {
        "construction": TONE_KINDS[kind],
        "shifts": list(TONE_SHIFTS),
        "judged": judged,
        "refused": refused,
        "newly_referred": new,
        "p95": {c: p95(v) for c, v in changes.items()},
        "worst": {c: w[1] for c, w in worst.items()},
    }


def tone_targets(ev: Evaluation, noise: dict[str, float]) -> list[Target]:
    shifts = "/".join(f"{s:+d}" for s in TONE_SHIFTS)
    rows = []
    for kind, construction in TONE_KINDS.items():
        tone = tone_only(ev, kind)
        judged = kind in JUDGED_TONE_KINDS
        note = "" if judged else "For information (not melanin alone): "
        beyond = {
            c: v for c, v in tone["p95"].items() if v is not None and v > noise[c]
        }
        new, refused = tone["newly_referred"], tone["refused"]
        rows += [
            Target(
                3,
                "tone",
                f"{note}'See a dermatologist' never fires from skin tone alone: "
                f"skin-only variants, ITA {shifts} degrees ({construction}), newly "
                "refer no face",
                f"{tone['judged']} variants accepted, {len(new)} newly referred"
                + (f": {', '.join(new)}" if new else "")
                + f"; {len(refused)} refused"
                + (f": {', '.join(refused)}" if refused else ""),
                tone["judged"] > 0 and not new,
                informational=not judged,
            ),
            Target(
                3,
                "tone",
                f"{note}The same variants ({kind}) move redness and every other "
                "concern within noise (p95 over faces and shifts)",
                ", ".join(
                    f"{c} p95 {v} > {noise[c]:.1f} (worst {tone['worst'][c]})"
                    for c, v in beyond.items()
                )
                or "all within noise",
                tone["judged"] > 0 and not beyond,
                informational=not judged,
            ),
        ]
    return rows


def resolution_target(ev: Evaluation, noise: dict[str, float]) -> Target:
    small_refused = [
        n
        for n, v in ev.variants.items()
        if "width144" in v and v["width144"]["code"] == "face_too_small"
    ]
    beyond = {}
    for concern in CONCERNS:
        value = p95(pooled(deltas(ev, "width", concern)))
        if value is not None and value > noise[concern]:
            beyond[concern] = value
    pairs = len(deltas(ev, "width", "redness"))
    return Target(
        5,
        "resolution",
        "Face 144 vs 288 px: scores within noise (p95 over faces) or 144 refused "
        "face_too_small",
        f"{pairs} pairs both accepted, {len(small_refused)} refused face_too_small; "
        + (
            ", ".join(f"{c} p95 {v} > {noise[c]:.1f}" for c, v in beyond.items())
            or "all within noise"
        ),
        not beyond,
    )


def stability_target(ev: Evaluation, kind: str, noise: dict[str, float]) -> Target:
    beyond = {}
    for concern in CONCERNS:
        value = p95(pooled(deltas(ev, kind, concern)))
        if value is not None and value > noise[concern]:
            beyond[concern] = value
    return Target(
        6,
        "stability",
        f"{kind}: no concern's p95 |change| beyond noise",
        ", ".join(f"{c} {v} > {noise[c]:.1f}" for c, v in beyond.items())
        or "all within noise",
        not beyond,
    )


def progress_target(ev: Evaluation) -> Target:
    """Re-shots judged as progress would judge them (re-shot against the original,
    noise scaled by both photos' face size and confidence)."""
    noise, _ = noise_limits(ev)
    judged, any_flag = 0, 0
    flagged: dict[str, list[str]] = {c: [] for c in CONCERNS}
    for name, variants in ev.variants.items():
        base = ev.base[name]
        for variant, result in variants.items():
            if not (
                variant.startswith("reshot") and accepted(result) and accepted(base)
            ):
                continue
            judged += 1
            hit = False
            for concern in result["scores"].keys() & base["scores"]:
                limit = scaled_noise(noise[concern], base, result, concern)
                change = result["scores"][concern] - base["scores"][concern]
                if abs(change) > limit:
                    flagged[concern].append(f"{name}/{variant} {change:+d}")
                    hit = True
            any_flag += hit
    rates = {c: len(v) / judged for c, v in flagged.items() if judged}
    worst = [c for c, r in rates.items() if r > MAX_FLAGGED_RESHOTS]
    return Target(
        6,
        "stability",
        "Re-shots judged by progress (noise scaled by face size and confidence): "
        f"no concern calls more than {MAX_FLAGGED_RESHOTS:.0%} of them a real change",
        f"{judged} re-shots; any concern flagged in {any_flag}; "
        + (
            "; ".join(
                f"{c} {len(flagged[c])} ({', '.join(flagged[c][:3])})" for c in worst
            )
            or "every concern within"
        ),
        judged > 0 and not worst,
    )


def scaled_noise(
    base_noise: float, a: dict[str, Any], b: dict[str, Any], concern: str
) -> float:
    """compare.pair_noise for two summaries, with base_noise as the concern's."""
    return engine_compare.pair_noise(
        concern,
        [
            {
                "face_width_px": r.get("face_width"),
                "confidence": r["confidence"][concern],
            }
            for r in (a, b)
        ],
        base=base_noise,
    )


# --- report -------------------------------------------------------------------------


def fmt(value: Any) -> str:
    return "-" if value is None else str(value)


def report(ev: Evaluation) -> str:
    _, source = noise_limits(ev)
    measured = measured_noise(ev)
    lines = [
        "# Engine evaluation on real faces",
        "",
        f"Generated by `make evaluate` (`bench/evaluate.py --write --write-noise`)"
        f" for engine {ENGINE_VERSION}: {len(ev.base)} photos and crops, "
        f"{sum(len(v) for v in ev.variants.values())} variants, "
        f"{ev.seconds:.0f} s. Do not edit by hand.",
        "",
        "## Targets (issue #13)",
        "",
        f"Noise below means per-concern test-retest noise ({source}), floor "
        f"{engine_compare.NOISE_FLOOR:.0f}.",
        "",
        "| item | target | measured | verdict |",
        "|---|---|---|---|",
    ]
    for t in targets(ev):
        text, shown = (s.replace("|", "\\|") for s in (t.text, t.measured))
        lines.append(f"| {t.item} | {text} | {shown} | **{t.verdict}** |")
    lines += [
        "",
        "The referral rule is the engine's `scoring.refer_to_dermatologist` "
        "(redness, blemishes or pigmentation severe; shine, texture, lines and dark "
        "circles are cosmetic and do not refer), which the API's `see_dermatologist` "
        "words. Skin-tone-only variants change the skin of the face only (the "
        "landmarks' hull less eyes and mouth, feathered outside the measured "
        "regions; background, eyes and teeth untouched), so that the "
        "cheeks' reference ITA moves by "
        + ", ".join(f"{s:+d}" for s in TONE_SHIFTS)
        + " degrees, in two ways. `tone`: one CIELAB L*, b* offset along the ITA "
        "circle, a* kept; in the engine's optical-density model this is not pure "
        "melanin (it also moves the cheeks' haemoglobin index, e.g. by -11 on "
        "obama.jpg and +9 on biden.jpg at -20 degrees, and redness follows it). "
        "`melanin`: optical density added or removed along the melanin absorption "
        "direction the engine unmixes with (Beer-Lambert; haemoglobin unchanged by "
        "construction). Only `melanin` is judged: `tone` adds one L* offset where "
        "melanin scales reflectance, and on skin darker than L* 50 it lowers b* as "
        "the skin darkens, where melanin raises it (biden.jpg, cheek L* 46: b* 16.9 "
        "-> 14.6 at -20 degrees, 17.7 with melanin added). Both constructions also "
        "change the skin's highlights, which melanin under the surface would not, "
        "and push bright skin into clipping (multi_face-face3 +20: forehead at L* "
        "99). Noise: p95 over faces and shifts against the same face's original "
        "photo.",
        "",
        "## Test-retest noise",
        "",
        "95th percentile of |score change| over every face's mirror flip, JPEG q95, "
        "JPEG q60 and re-shots (trim up to 6% per side, rescale 0.9-1.1, ±0.2 EV, "
        "JPEG q85-95), against the same face's original photo; at least the 95th "
        "percentile over the re-shots alone (the re-take progress compares; the "
        "gentler flips and re-encodes must not pull the noise below it).",
        "",
        "| concern | noise (p95) |",
        "|---|---|",
    ]
    for concern in CONCERNS:
        lines.append(
            f"| {concern} | {fmt(None if measured is None else measured[concern])} |"
        )
    lines += [
        "",
        f"By face size (analysis-scale face width; progress scales noise up by "
        f"√({engine_compare.REFERENCE_FACE_WIDTH:.0f} / width) below "
        f"{engine_compare.REFERENCE_FACE_WIDTH:.0f} px):",
        "",
        "| concern | faces < "
        f"{engine_compare.REFERENCE_FACE_WIDTH:.0f} px | faces ≥ "
        f"{engine_compare.REFERENCE_FACE_WIDTH:.0f} px |",
        "|---|---|---|",
        *(
            f"| {c} | {fmt(v['narrower'])} | {fmt(v['wider'])} |"
            for c, v in noise_by_size(ev).items()
        ),
        "",
        "## Stability",
        "",
        "p95 of |score change| pooled over faces; in brackets each face's largest "
        "change, as median face / worst face (the worst face named). width: the face "
        "at 144 px against the same frame at 288 px.",
        "",
        "| concern | " + " | ".join(STABILITY_KINDS) + " |",
        "|---|" + "---|" * len(STABILITY_KINDS),
    ]
    for concern, row in stability(ev).items():
        cells = []
        for kind in STABILITY_KINDS:
            s = row.get(kind)
            cells.append(
                "-"
                if s is None
                else f"{s['p95']} ({s['median_face']} / {s['worst_face']} "
                f"{s['worst_name']})"
            )
        lines.append(f"| {concern} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Acceptance by ITA band",
        "",
        "Bands: the varied faces in thirds by the person's ITA measured on the "
        "original photo (median L*, b* of the cheek polygons; the set has too few "
        "dark-skinned people for Chardon's brown and dark categories, and light "
        "moves ITA: one person reads 15-33 across photos). Ordinary items = photos "
        "a reviewer expects accepted and their ±0.5 EV, white-balance, flip, JPEG, "
        "re-shot and 288 px variants. Darkened (-2.5 EV) and strongly cast variants "
        "should all be refused; in brackets the share refused with the expected "
        "code. Casts are channel gains in linear light on the photo made white "
        "first (by the engine's own estimate of its light, so the cast is known "
        "relative to white light); the last column puts them on the photo as it "
        "is, where a cast can cancel the photo's own tint (a green cast on a "
        "magenta-lit studio photo gives a nearly white-lit one).",
        "",
        "| band | ordinary accepted | of those, severe redness | of those, referred "
        "to a dermatologist (by concern) | darkened refused "
        "(as too_dark) | cast refused (as colour_cast) | cast on the photo as it "
        "is refused (as colour_cast) |",
        "|---|---|---|---|---|---|---|",
    ]
    referral = referral_by_band(ev)
    accept = acceptance_by_band(ev)
    dark = refusals_by_band(ev, f"ev{DARK_EV:+.1f}", "too_dark")
    cast = refusals_by_band(ev, "cast_", "colour_cast")
    photocast = refusals_by_band(ev, "photocast_", "colour_cast")
    for band in sorted(set(accept) | set(dark) | set(cast), key=band_order):
        cells = [
            f"{accept[band]['accepted']:.0f}% of {accept[band]['n']}"
            if band in accept
            else "-",
            f"{fmt(accept[band]['severe_redness'])}%" if band in accept else "-",
            f"{referral[band]['referred']:.1f}%"
            + (
                " ("
                + ", ".join(f"{c} {k}" for c, k in referral[band]["by_concern"].items())
                + ")"
                if referral[band]["by_concern"]
                else ""
            )
            if band in referral
            else "-",
            *(
                f"{d[band]['refused']:.0f}% ({d[band]['as_code']:.0f}%) of "
                f"{d[band]['n']}"
                if band in d
                else "-"
                for d in (dark, cast, photocast)
            ),
        ]
        lines.append(f"| {band} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Concerns against skin tone and exposure",
        "",
        "Over accepted ordinary items: Pearson correlation of each score with the "
        "engine's ITA and with the face's median L*; and the change from -0.5 EV to "
        "+0.5 EV of the same face (median over faces, largest |change|).",
        "",
        "| concern | n | corr with ITA | corr with face L* | per +1 EV median | "
        "per +1 EV max |",
        "|---|---|---|---|---|---|",
    ]
    for concern, c in concern_correlations(ev).items():
        lines.append(
            f"| {concern} | {c['n']} | {fmt(c['corr_ita'])} | "
            f"{fmt(c['corr_lightness'])} | {fmt(c['per_ev_median'])} | "
            f"{fmt(c['per_ev_max'])} |"
        )
    lines += [
        "",
        "## Score distributions",
        "",
        "Accepted photos and crops (no variants): percentiles 5/25/50/75/95 and how "
        "many are severe (≥ 75).",
        "",
        "| concern | n | p5 / p25 / p50 / p75 / p95 | severe |",
        "|---|---|---|---|",
    ]
    for concern, d in distributions(ev).items():
        lines.append(
            f"| {concern} | {d['n']} | {' / '.join(map(str, d['percentiles']))} | "
            f"{d['severe']} |"
        )
    lines += [
        "",
        "## Per photo",
        "",
        "Gate outcome against a reviewer's expectation (`either`: no expectation; "
        "bold: differs), reference ITA (cheeks), then each concern's score. "
        "Variant columns: the outcome of the darkened, cast (green/blue; on the "
        "photo made white, then on the photo as it is), tinted and 144 px variants "
        "(`ok` = accepted).",
        "",
        "| photo | expected | got | ITA | "
        + " | ".join(CONCERNS)
        + " | dark | cast | cast as is | tint Δredness | 144 px |",
        "|---|---|---|---|" + "---|" * len(CONCERNS) + "---|---|---|---|---|",
    ]
    for name, face in ev.faces.items():
        r = ev.base[name]
        v = ev.variants.get(name, {})
        ok = face.expected in (r["code"], "either") or (
            face.expected == "reject" and r["code"] != "accept"
        )
        tint = v.get("tint_cheeks")
        rise = (
            tint["scores"]["redness"] - r["scores"]["redness"]
            if accepted(tint) and accepted(r)
            else None
        )
        cells = [
            name,
            face.expected,
            r["code"] if ok else f"**{r['code']}**",
            fmt(r["reference_ita"]),
            *(fmt(r["scores"].get(c)) for c in CONCERNS),
            code_of(v.get(f"ev{DARK_EV:+.1f}")),
            "/".join(code_of(v.get(f"cast_{k}")) for k in CASTS) if v else "-",
            "/".join(code_of(v.get(f"photocast_{k}")) for k in CASTS) if v else "-",
            fmt(rise) if tint else "-",
            code_of(v.get("width144")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def code_of(result: dict[str, Any] | None) -> str:
    if result is None:
        return "-"
    return "ok" if accepted(result) else result["code"]


def as_json(ev: Evaluation) -> dict[str, Any]:
    return {
        "engine_version": ENGINE_VERSION,
        "parts": list(ev.parts),
        "quick": ev.quick,
        "noise": measured_noise(ev),
        "targets": [
            {
                "item": t.item,
                "target": t.text,
                "measured": t.measured,
                "verdict": t.verdict,
            }
            for t in targets(ev)
        ],
        "stability": stability(ev),
        "acceptance_by_band": acceptance_by_band(ev),
        "referral_by_band": referral_by_band(ev),
        "skin_tone_only": {kind: tone_only(ev, kind) for kind in TONE_KINDS},
        "correlations": concern_correlations(ev),
        "distributions": distributions(ev),
        "noise_by_size": noise_by_size(ev),
        "photos": {
            name: {
                "expected": ev.faces[name].expected,
                "shows": ev.faces[name].shows,
                **ev.base[name],
                "variants": {
                    variant: {k: v for k, v in result.items() if k != "confidence"}
                    for variant, result in ev.variants.get(name, {}).items()
                },
            }
            for name in ev.faces
        },
    }


NOISE_BLOCK = re.compile(
    r"(# BEGIN generated noise.*?\n)(.*?)(# END generated noise)", re.DOTALL
)


def write_noise(noise: dict[str, float]) -> None:
    """Replace the generated TEST_RETEST_NOISE block in compare.py."""
    body = "TEST_RETEST_NOISE: dict[str, float] = {\n"
    body += "".join(f'    "{c}": {noise[c]:.1f},\n' for c in CONCERNS) + "}\n"
    text = COMPARE.read_text()
    if not NOISE_BLOCK.search(text):
        raise SystemExit("compare.py has no generated noise block")
    COMPARE.write_text(NOISE_BLOCK.sub(lambda m: m[1] + body + m[3], text, count=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer crops, 1 re-shot")
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts")
    parser.add_argument("--faces", default="", help="comma-separated photo names")
    parser.add_argument("--write", action="store_true", help="write the report")
    parser.add_argument(
        "--write-noise", action="store_true", help="rewrite compare.TEST_RETEST_NOISE"
    )
    parser.add_argument("--json", help="also write this run's JSON here")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    parts = tuple(p.strip() for p in args.only.split(",") if p.strip())
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {sorted(unknown)}; choose from {PARTS}")
    names = [n for n in args.faces.split(",") if n]
    full = set(parts) == set(PARTS) and not names
    if (args.write or args.write_noise) and not (full and not args.quick):
        parser.error(
            "--write/--write-noise need a full run (no --only/--faces/--quick)"
        )
    ev = evaluate(
        parts,
        quick=args.quick,
        names=names,
        log=print if args.verbose else (lambda line: None),
    )
    _, source = noise_limits(ev)
    print(
        f"engine {ENGINE_VERSION}: {len(ev.base)} photos, "
        f"{sum(len(v) for v in ev.variants.values())} variants, {ev.seconds:.0f} s; "
        f"noise {source}"
    )
    for t in targets(ev):
        print(f"[{t.verdict:7s}] item {t.item} {t.text}: {t.measured}")
    if args.json:
        Path(args.json).write_text(json.dumps(as_json(ev), indent=1) + "\n")
    if args.write_noise:
        write_noise(measured_noise(ev))
        engine_compare.TEST_RETEST_NOISE.update(measured_noise(ev))
        print(f"wrote {COMPARE.relative_to(ROOT)} TEST_RETEST_NOISE")
    if args.write:
        REPORT.write_text(report(ev))
        REPORT_JSON.write_text(json.dumps(as_json(ev), indent=1) + "\n")
        print(f"wrote {REPORT.relative_to(ROOT)} and {REPORT_JSON.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
