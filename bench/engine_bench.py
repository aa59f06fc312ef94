"""Benchmark: engine vs plain full-resolution decode of a 12-megapixel JPEG.

Each measurement runs in a fresh subprocess of a small parent, so its peak RSS
(resource.getrusage, which sees native memory that tracemalloc does not) belongs to
that task alone. "RSS at start" is the peak after imports, before the first photo.
Besides wall time it reports process CPU time (all threads) and minor page faults
per call: on a busy machine wall time mostly measures the neighbours, and where page
faults are expensive (sandboxes, some VMs) they dominate a plain decode's cost.
Run: .venv/bin/python bench/engine_bench.py
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = str(ROOT / "var/models/face_landmarker.task")
PHOTOS = 50
REPEATS = 11


def make_photo(path: Path) -> None:
    """A 4000x3000 JPEG (quality 92) with the astronaut's head upscaled in it."""
    import cv2
    import numpy as np
    from PIL import Image
    from skimage import data

    head = np.ascontiguousarray(data.astronaut()[7:263, 97:353])
    canvas = np.full((3000, 4000, 3), 200, dtype=np.uint8)
    canvas[:, 500:3500] = cv2.resize(head, (3000, 3000), interpolation=cv2.INTER_CUBIC)
    Image.fromarray(canvas).save(path, format="JPEG", quality=92)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(task: str, path: str) -> dict[str, object]:
    """Run one task in this (fresh) process and report times and memory."""
    sys.path.insert(0, str(ROOT))
    payload = Path(path).read_bytes()
    if task == "decode":
        from PIL import Image

        def run() -> str:
            with Image.open(path) as image:
                image.load()
                image.convert("RGB")
            return "ok"
    else:
        from analysis.engine import analyse_photo

        def run() -> str:
            return analyse_photo(payload, model_path=MODEL).status

    rss_before = peak_rss_mb()
    times, cpu_times, faults, status = [], [], [], ""
    count = PHOTOS if task == "throughput" else REPEATS
    start_all = time.perf_counter()
    for _ in range(count):
        faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        cpu_start, start = time.process_time(), time.perf_counter()
        status = run()
        times.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.process_time() - cpu_start) * 1000)
        faults.append(
            resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before
        )
    total = time.perf_counter() - start_all
    return {
        "first_ms": times[0],
        "median_ms": statistics.median(times[1:] or times),
        "cpu_median_ms": statistics.median(cpu_times[1:] or cpu_times),
        "faults_per_call": statistics.median(faults[1:] or faults),
        "per_second": count / total,
        "rss_after_imports_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "status": status,
    }


def spawn(task: str, path: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", task, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("TASK", "PATH"))
    parser.add_argument("--make", metavar="PATH")
    args = parser.parse_args()
    if args.make:
        make_photo(Path(args.make))
        return 0
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "12mp.jpg"
        # Built in its own process: Linux keeps ru_maxrss across fork+exec, so a big
        # parent would inflate every child's peak.
        subprocess.run([sys.executable, __file__, "--make", str(photo)], check=True)
        size_mb = photo.stat().st_size / 1e6
        decode = spawn("decode", photo)
        engine = spawn("engine", photo)
        through = spawn("throughput", photo)
    print(
        f"12 MP JPEG 4000x3000 q92, {size_mb:.1f} MB; engine status: {engine['status']}"
    )
    print(
        f"{'':24s}{'first ms':>10s}{'median ms':>11s}{'CPU ms':>8s}"
        f"{'faults':>8s}{'peak RSS MB':>13s}{'RSS at start':>14s}"
    )
    for name, row in (("full-res decode", decode), ("engine analyse_photo", engine)):
        print(
            f"{name:24s}{row['first_ms']:10.1f}{row['median_ms']:11.1f}"
            f"{row['cpu_median_ms']:8.1f}{row['faults_per_call']:8.0f}"
            f"{row['peak_rss_mb']:13.1f}{row['rss_after_imports_mb']:14.1f}"
        )
    ratio = engine["median_ms"] / decode["median_ms"]
    cold = engine["first_ms"] / decode["median_ms"]
    cpu_ratio = engine["cpu_median_ms"] / decode["cpu_median_ms"]
    print(
        f"engine / decode time: {ratio:.2f}x warm, {cold:.2f}x first call "
        f"(target <= 2x); engine peak RSS {engine['peak_rss_mb']:.0f} MB "
        f"(target < 300 MB)"
    )
    print(
        f"engine / decode CPU time (all threads, less sensitive to machine load): "
        f"{cpu_ratio:.2f}x; medians of {REPEATS - 1} warm calls"
    )
    print(
        f"throughput: {through['per_second']:.1f} photos/s over {PHOTOS} photos, "
        f"one process, peak RSS {through['peak_rss_mb']:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
