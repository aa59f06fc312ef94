"""Peak memory and time of a 48 MP photo upload: web request vs worker step.

For each accepted kind of 48-megapixel photo (8064x6048: JPEG q92, 16-bit PNG,
HEIC) this runs, each in a fresh subprocess:

    web     Django parses the multipart body (streamed from a file, as gunicorn
            hands it over) and ``analysis.services.accept_photo`` checks the header
            and stores the raw upload: what POST /api/v1/analyses/ does, minus
            authentication and one INSERT. Target: < 300 MB above idle.
    worker  ``engine.reencode_without_metadata`` on the raw file (full decode,
            EXIF-free re-encode at ANALYSIS_STORED_PHOTO_MAX_SIDE), then
            ``engine.analyse_photo`` on the stored photo: the Celery task's work
            minus its two small UPDATEs. The landmark model is loaded before the
            idle mark, as in a worker that has run once. Target: < 600 MB.

Idle is the process's RSS after imports and warm-up, when its peak (VmHWM) is
reset through /proc/self/clear_refs; peak is VmHWM after the step. (ru_maxrss
would carry the parent's peak over exec.) The photos are synthetic but photo-like (lit
gradient, a face filling the frame's height, mild noise); the 16-bit PNG holds
8-bit content widened to 16 bits (about 60 MB; see ``large_photo``).

    .venv/bin/python bench/upload_memory.py [--json out.json] [--kinds jpeg,heic]

No database or Redis needed: settings run in debug mode with a temporary
MEDIA_ROOT.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("jpeg", "png16", "heic")
WEB_LIMIT_MB = 300
WORKER_LIMIT_MB = 600
BOUNDARY = "benchboundary7d2f"


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def _idle_mb() -> float:
    """RSS now, after resetting the peak to it (Linux /proc/self/clear_refs).

    ru_maxrss alone is not enough: Linux carries the parent's peak over exec.
    """
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def _setup(media_root: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skincare.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ["MEDIA_ROOT"] = media_root
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def child_web(body: Path, media_root: str) -> dict:
    """Parse the multipart body from disk and accept the photo; no decode."""
    _setup(media_root)
    from django.core.handlers.wsgi import WSGIRequest

    from analysis import services

    idle = _idle_mb()
    start = time.perf_counter()
    with body.open("rb") as stream:
        request = WSGIRequest(
            {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": "/api/v1/analyses/",
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "80",
                "wsgi.input": stream,
                "wsgi.url_scheme": "http",
                "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
                "CONTENT_LENGTH": str(body.stat().st_size),
            }
        )
        upload = request.FILES["photo"]
        name = services.accept_photo(photo=upload)
        upload.close()
    elapsed = (time.perf_counter() - start) * 1000
    stored = Path(media_root) / name
    return {
        "idle_mb": idle,
        "peak_mb": _status_mb("VmHWM"),
        "ms": elapsed,
        "stored": name,
        "stored_bytes": stored.stat().st_size,
    }


def child_worker(raw: Path, media_root: str) -> dict:
    """Decode and re-encode the raw upload, then run the engine on the result."""
    _setup(media_root)
    from django.conf import settings

    from analysis import engine
    from analysis.tests.factories import face_jpeg_with_gps

    warm = engine.analyse_photo(
        face_jpeg_with_gps(), model_path=settings.LANDMARK_MODEL_PATH
    )
    idle = _idle_mb()
    start = time.perf_counter()
    with raw.open("rb") as handle:
        clean = engine.reencode_without_metadata(
            handle,
            max_side=settings.ANALYSIS_STORED_PHOTO_MAX_SIDE,
            max_bytes=settings.ANALYSIS_PHOTO_MAX_BYTES,
        )
    prepared = (time.perf_counter() - start) * 1000
    result = engine.analyse_photo(clean, model_path=settings.LANDMARK_MODEL_PATH)
    elapsed = (time.perf_counter() - start) * 1000
    from PIL import Image

    stored_size = Image.open(io.BytesIO(clean)).size
    return {
        "idle_mb": idle,
        "peak_mb": _status_mb("VmHWM"),
        "ms": elapsed,
        "reencode_ms": prepared,
        "stored_size": list(stored_size),
        "status": result.status,
        "failure_code": result.failure_code,
        "warm_status": warm.status,
    }


def _spawn(side: str, path: Path, media_root: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", side, str(path), media_root],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{side} child failed:\n{proc.stderr[-4000:]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["above_idle_mb"] = row["peak_mb"] - row["idle_mb"]
    return row


def _multipart(photo: bytes, path: Path) -> None:
    with path.open("wb") as out:
        out.write(
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="photo"; filename="photo"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        out.write(photo)
        out.write(f"\r\n--{BOUNDARY}--\r\n".encode())


def run(kinds: tuple[str, ...]) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skincare.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    import django

    django.setup()
    from django.conf import settings

    from analysis.tests.factories import LARGE_SIZE, large_photo, large_photo_rgb

    rgb = large_photo_rgb()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            photo = large_photo(kind, rgb=rgb)
            body = Path(tmp) / f"{kind}.body"
            _multipart(photo, body)
            media = Path(tmp) / f"media-{kind}"
            media.mkdir()
            web = _spawn("web", body, str(media))
            worker = _spawn("worker", media / web["stored"], str(media))
            rows.append(
                {
                    "kind": kind,
                    "bytes": len(photo),
                    "stored_identical": web["stored_bytes"] == len(photo),
                    "web": web,
                    "worker": worker,
                }
            )
    return {
        "size": list(LARGE_SIZE),
        "max_bytes": settings.ANALYSIS_PHOTO_MAX_BYTES,
        "stored_max_side": settings.ANALYSIS_STORED_PHOTO_MAX_SIDE,
        "web_limit_mb": WEB_LIMIT_MB,
        "worker_limit_mb": WORKER_LIMIT_MB,
        "rows": rows,
    }


def markdown(report: dict) -> str:
    width, height = report["size"]
    lines = [
        "| photo | MB | web peak above idle | web ms | worker peak above idle "
        "| worker ms (re-encode) | engine |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in report["rows"]:
        web, worker = row["web"], row["worker"]
        lines.append(
            f"| {width}x{height} {row['kind']} | {row['bytes'] / 1e6:.1f} "
            f"| {web['above_idle_mb']:.0f} MB (idle {web['idle_mb']:.0f}) "
            f"| {web['ms']:.0f} "
            f"| {worker['above_idle_mb']:.0f} MB (idle {worker['idle_mb']:.0f}) "
            f"| {worker['ms']:.0f} ({worker['reencode_ms']:.0f}) "
            f"| {worker['status']} {worker['failure_code'] or ''} |"
        )
    lines.append(
        f"\nTargets: web < {report['web_limit_mb']} MB, worker < "
        f"{report['worker_limit_mb']} MB above idle; stored photos at most "
        f"{report['stored_max_side']} px on their longest side."
    )
    return "\n".join(lines)


def within_limits(report: dict) -> bool:
    return all(
        row["web"]["above_idle_mb"] < report["web_limit_mb"]
        and row["worker"]["above_idle_mb"] < report["worker_limit_mb"]
        and row["stored_identical"]
        for row in report["rows"]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--child", nargs=3, metavar=("SIDE", "PATH", "MEDIA"))
    args = parser.parse_args()
    if args.child:
        side, path, media_root = args.child
        step = child_web if side == "web" else child_worker
        print(json.dumps(step(Path(path), media_root)))
        return 0
    report = run(tuple(filter(None, args.kinds.split(","))))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print(markdown(report))
    return 0 if within_limits(report) else 1


if __name__ == "__main__":
    sys.exit(main())
