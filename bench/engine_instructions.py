"""Instructions per engine analysis and per plain decode, counted by callgrind.

CPU time on these shared machines swings by a fifth from run to run; instruction
counts do not. Each side runs under ``valgrind --tool=callgrind`` twice, once with
one call and once with three after a warm-up call, so (three - one) / 2 is the
cost of one call without interpreter start, imports or model loading. Instructions
are not time: the decode is libjpeg's SIMD, so the ratio here overstates the time
ratio that bench/engine_bench.py measures; it is for comparing engine versions.

Run from the repository root (takes several minutes; valgrind must be installed):
    .venv/bin/python bench/engine_instructions.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from engine_bench import MODEL, make_photo  # noqa: E402


def calls(task: str, photo: str, count: int) -> None:
    """In this process: one warm-up call of task, then count more."""
    data = Path(photo).read_bytes()
    if task == "engine":
        from analysis.engine import analyse_photo

        def run() -> None:
            analyse_photo(data, model_path=MODEL)
    else:
        from PIL import Image

        def run() -> None:
            with Image.open(photo) as image:
                image.load()
                image.convert("RGB")

    for _ in range(count + 1):
        run()


def instructions(task: str, photo: str, count: int, folder: str) -> int:
    out = Path(folder) / f"callgrind.{task}.{count}"
    result = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--child",
            task,
            photo,
            str(count),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(re.search(r"Collected : (\d+)", result.stderr).group(1))


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        calls(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        photo = str(Path(folder) / "photo.jpg")
        make_photo(photo)
        per_call = {}
        for task in ("decode", "engine"):
            one, three = (instructions(task, photo, n, folder) for n in (1, 3))
            per_call[task] = (three - one) / 2
            print(f"{task}: {per_call[task] / 1e6:,.0f} M instructions per call")
    print(f"engine / decode: {per_call['engine'] / per_call['decode']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
