"""Backups of the database and media storage, their verification and restore.

A backup is one folder DEST/YYYYmmddTHHMMSSZ/ holding the database (a pg_dump custom
archive on PostgreSQL, an SQLite copy made with the online backup API otherwise), the
media files as media.tar.gz, manifest.json and SHA256SUMS (`sha256sum -c` reads it).
The folder is written under a temporary name and renamed when complete, so a crashed
backup never looks like a valid one.
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import django
from django.conf import settings
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
STAMP_RE = re.compile(r"^\d{8}T\d{6}Z$")
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
MEDIA_ARCHIVE = "media.tar.gz"


class BackupError(Exception):
    """A backup or restore could not be made; nothing was changed by a restore."""


class VerificationError(BackupError):
    """A backup's files do not match its checksums (or are missing)."""


@dataclass
class BackupResult:
    path: Path
    files: dict[str, int] = field(default_factory=dict)
    pruned: list[Path] = field(default_factory=list)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_command(program: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """argv and environment for a PostgreSQL client tool on the configured database."""
    db = connection.settings_dict
    argv = [program, "--dbname", db["NAME"]]
    if db.get("HOST"):
        argv += ["--host", db["HOST"]]
    if db.get("PORT"):
        argv += ["--port", str(db["PORT"])]
    if db.get("USER"):
        argv += ["--username", db["USER"]]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return [*argv, "--no-password", *args], env


def _run(argv: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(  # noqa: S603 - fixed program, no shell
            argv, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError as exc:
        raise BackupError(f"{argv[0]} is not installed or not on PATH") from exc
    if result.returncode != 0:
        raise BackupError(
            f"{argv[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}"
        )


def _migration_state() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def _dump_database(folder: Path) -> str:
    if connection.vendor == "postgresql":
        argv, env = _pg_command(
            "pg_dump", "--format=custom", "--file", str(folder / PG_DUMP)
        )
        _run(argv, env)
        return PG_DUMP
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(folder / SQLITE_COPY)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        return SQLITE_COPY
    raise BackupError(f"no backup method for the {connection.vendor} database")


def _archive_media(folder: Path) -> str:
    media_root = Path(settings.MEDIA_ROOT)
    with tarfile.open(folder / MEDIA_ARCHIVE, "w:gz") as archive:
        if media_root.is_dir():
            for child in sorted(media_root.iterdir()):
                archive.add(child, arcname=child.name)
    return MEDIA_ARCHIVE


def create_backup(*, dest: Path, now: datetime | None = None) -> BackupResult:
    """Back up the database, then the media, into a new dated folder under dest."""
    stamp = (now or datetime.now(UTC)).strftime(STAMP_FORMAT)
    dest.mkdir(parents=True, exist_ok=True)
    final = dest / stamp
    if final.exists():
        raise BackupError(f"{final} already exists")
    partial = dest / f".{stamp}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700)
    try:
        # The database first: media files then cover every row of the dump (files
        # uploaded meanwhile are harmless extras).
        names = [_dump_database(partial), _archive_media(partial)]
        files = {
            name: {
                "sha256": sha256_of(partial / name),
                "size": (partial / name).stat().st_size,
            }
            for name in names
        }
        manifest = {
            "format": 1,
            "created_at": datetime.now(UTC).isoformat(),
            "stamp": stamp,
            "database": {
                "vendor": connection.vendor,
                "name": str(connection.settings_dict["NAME"]),
            },
            "media_root": str(settings.MEDIA_ROOT),
            "django": django.get_version(),
            "migrations": _migration_state(),
            "files": files,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        sums = {**{n: f["sha256"] for n, f in files.items()}}
        sums[MANIFEST] = sha256_of(partial / MANIFEST)
        (partial / CHECKSUMS).write_text(
            "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))
        )
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupResult(
        path=final, files={name: f["size"] for name, f in files.items()}
    )


def list_backups(dest: Path) -> list[Path]:
    """Complete backups under dest, oldest first."""
    if not dest.is_dir():
        return []
    return sorted(p for p in dest.iterdir() if p.is_dir() and STAMP_RE.match(p.name))


def prune_backups(*, dest: Path, keep: int, dry_run: bool = False) -> list[Path]:
    """Delete all but the newest `keep` backups under dest; return what went."""
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    doomed = list_backups(dest)[:-keep]
    if not dry_run:
        for path in doomed:
            shutil.rmtree(path)
    return doomed


def verify_backup(source: Path) -> dict:
    """Return the manifest once every file matches SHA256SUMS and the manifest."""
    sums_path = source / CHECKSUMS
    if not sums_path.is_file() or not (source / MANIFEST).is_file():
        raise VerificationError(f"{source} is not a backup ({CHECKSUMS} or manifest)")
    expected: dict[str, str] = {}
    for line in sums_path.read_text().splitlines():
        digest, _, name = line.partition("  ")
        expected[name.strip()] = digest.strip()
    problems = []
    for name, digest in sorted(expected.items()):
        path = source / name
        if "/" in name or not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_of(path) != digest:
            problems.append(f"{name}: checksum mismatch")
    if problems:
        raise VerificationError(f"{source} failed verification: {'; '.join(problems)}")
    manifest = json.loads((source / MANIFEST).read_text())
    for name, meta in manifest["files"].items():
        if expected.get(name) != meta["sha256"]:
            raise VerificationError(f"{source}: {name} not covered by {CHECKSUMS}")
    return manifest


def _restore_database(source: Path, manifest: dict) -> None:
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(
            f"backup is of a {vendor} database, the configured one is "
            f"{connection.vendor}"
        )
    if vendor == "postgresql":
        # Idle connections of this process must not hold locks on dropped tables.
        connections.close_all()
        argv, env = _pg_command(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            str(source / PG_DUMP),
        )
        _run(argv, env)
        return
    connection.ensure_connection()
    origin = sqlite3.connect(source / SQLITE_COPY)
    try:
        origin.backup(connection.connection)
    finally:
        origin.close()


def _restore_media(source: Path) -> None:
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    # Empty it in place: MEDIA_ROOT may be a mount point that cannot be replaced.
    for child in media_root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    with tarfile.open(source / MEDIA_ARCHIVE, "r:gz") as archive:
        archive.extractall(media_root, filter="data")


def restore_backup(*, source: Path, dry_run: bool = False) -> dict:
    """Verify a backup, then replace the database and media with its contents."""
    manifest = verify_backup(source)
    if manifest["database"]["vendor"] != connection.vendor:
        raise BackupError(
            f"backup is of a {manifest['database']['vendor']} database, the "
            f"configured one is {connection.vendor}"
        )
    if not dry_run:
        _restore_database(source, manifest)
        _restore_media(source)
    return manifest
