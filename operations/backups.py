"""Backups of the database and media storage, their verification and restore.

A backup is one folder YYYYmmddTHHMMSSZ/ in the backup storage (STORAGES["backups"]:
BACKUP_DIR, or the bucket's backups/ with STORAGE_URL / BACKUP_STORAGE_URL) holding
the database (a pg_dump custom archive on PostgreSQL, an SQLite copy made with the
online backup API otherwise), every file of the media storage as media.tar.gz,
manifest.json and SHA256SUMS (`sha256sum -c` reads it). Everything goes through
Django's storage API, so a backup made from a bucket can be restored into a folder
and back. SHA256SUMS is written last: a folder without it is an unfinished backup,
never listed, verified or restored.
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import django
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder

from skincare.storage import (
    StorageUnavailable,
    backup_storage,
    describe,
    is_local,
    media_storage,
    storage_errors,
    walk,
)

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
    name: str  # the stamp, the folder's name in the backup storage
    where: str  # storage and folder, for people (no credentials)
    files: dict[str, int] = field(default_factory=dict)


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
    """Every file of the media storage into media.tar.gz, read through the API."""
    storage = media_storage()
    with tarfile.open(folder / MEDIA_ARCHIVE, "w:gz") as archive:
        for name in walk(storage):
            with storage.open(name, "rb") as handle:
                info = tarfile.TarInfo(name)
                info.size = storage.size(name)
                info.mode = 0o600
                archive.addfile(info, handle)
    return MEDIA_ARCHIVE


def backup_location(dest: str | Path | None = None) -> Storage:
    """The backup storage, or a local folder given on the command line."""
    return FileSystemStorage(location=str(dest)) if dest else backup_storage()


def _delete_folder(storage: Storage, name: str) -> None:
    if is_local(storage):
        shutil.rmtree(storage.path(name), ignore_errors=True)
        return
    for path in list(walk(storage, name)):
        storage.delete(path)


def create_backup(
    *, storage: Storage | None = None, now: datetime | None = None
) -> BackupResult:
    """Back up the database, then the media, into a new dated folder of storage."""
    storage = storage or backup_storage()
    stamp = (now or datetime.now(UTC)).strftime(STAMP_FORMAT)
    try:
        with storage_errors():
            if stamp in list_backups(storage):
                raise BackupError(f"{describe(storage)}/{stamp} already exists")
            _delete_folder(storage, stamp)  # an unfinished one of the same second
            with tempfile.TemporaryDirectory(prefix="skincare-backup-") as work:
                files = _write_backup(Path(work), stamp)
                # SHA256SUMS last: until it is there, the folder is not a backup
                for name in [*sorted(files), MANIFEST, CHECKSUMS]:
                    with (Path(work) / name).open("rb") as handle:
                        storage.save(f"{stamp}/{name}", File(handle, name=name))
    except StorageUnavailable as exc:
        raise BackupError(f"storage unavailable: {exc.__cause__ or exc}") from exc
    return BackupResult(
        name=stamp,
        where=f"{describe(storage)}/{stamp}",
        files={name: meta["size"] for name, meta in files.items()},
    )


def _write_backup(work: Path, stamp: str) -> dict[str, dict]:
    """Database, media, manifest and checksums into a local work folder."""
    # The database first: media files then cover every row of the dump (files
    # uploaded meanwhile are harmless extras).
    names = [_dump_database(work), _archive_media(work)]
    files = {
        name: {"sha256": sha256_of(work / name), "size": (work / name).stat().st_size}
        for name in names
    }
    manifest = {
        "format": 2,
        "created_at": datetime.now(UTC).isoformat(),
        "stamp": stamp,
        "database": {
            "vendor": connection.vendor,
            "name": str(connection.settings_dict["NAME"]),
        },
        "media_storage": describe(media_storage()),
        "django": django.get_version(),
        "migrations": _migration_state(),
        "files": files,
    }
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    sums = {name: meta["sha256"] for name, meta in files.items()}
    sums[MANIFEST] = sha256_of(work / MANIFEST)
    (work / CHECKSUMS).write_text(
        "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))
    )
    return files


def list_backups(storage: Storage | None = None) -> list[str]:
    """Names (stamps) of the complete backups in storage, oldest first."""
    storage = storage or backup_storage()
    try:
        folders, _ = storage.listdir("")
    except FileNotFoundError:
        return []
    return sorted(
        name
        for name in folders
        if STAMP_RE.match(name) and storage.exists(f"{name}/{CHECKSUMS}")
    )


def prune_backups(
    *, storage: Storage | None = None, keep: int, dry_run: bool = False
) -> list[str]:
    """Delete all but the newest `keep` backups; return the names that went."""
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    storage = storage or backup_storage()
    doomed = list_backups(storage)[:-keep]
    if not dry_run:
        for name in doomed:
            # SHA256SUMS first: a half-deleted backup is no longer listed
            storage.delete(f"{name}/{CHECKSUMS}")
            _delete_folder(storage, name)
    return doomed


def verify_backup(storage: Storage, name: str, into: Path) -> dict:
    """Copy a backup into a local folder; return its manifest once every file
    matches SHA256SUMS and the manifest."""
    if not STAMP_RE.match(name):
        raise VerificationError(f"{name} is not a backup name (YYYYmmddTHHMMSSZ)")
    source = f"{describe(storage)}/{name}"
    try:
        with storage.open(f"{name}/{CHECKSUMS}", "rb") as handle:
            sums = handle.read().decode()
        with storage.open(f"{name}/{MANIFEST}", "rb") as handle:
            (into / MANIFEST).write_bytes(handle.read())
    except FileNotFoundError as exc:
        raise VerificationError(
            f"{source} is not a backup ({CHECKSUMS} or manifest)"
        ) from exc
    expected: dict[str, str] = {}
    for line in sums.splitlines():
        digest, _, file_name = line.partition("  ")
        expected[file_name.strip()] = digest.strip()
    problems = []
    for file_name, digest in sorted(expected.items()):
        if PurePosixPath(file_name).name != file_name or file_name in ("", ".", ".."):
            problems.append(f"{file_name}: not a plain name")
            continue
        local = into / file_name
        if file_name != MANIFEST:
            try:
                with (
                    storage.open(f"{name}/{file_name}", "rb") as handle,
                    local.open("wb") as out,
                ):
                    shutil.copyfileobj(handle, out, 1 << 20)
            except FileNotFoundError:
                problems.append(f"{file_name}: missing")
                continue
        if sha256_of(local) != digest:
            problems.append(f"{file_name}: checksum mismatch")
    if problems:
        raise VerificationError(f"{source} failed verification: {'; '.join(problems)}")
    manifest = json.loads((into / MANIFEST).read_text())
    for file_name, meta in manifest["files"].items():
        if expected.get(file_name) != meta["sha256"]:
            raise VerificationError(f"{source}: {file_name} not covered by {CHECKSUMS}")
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
    """Empty the media storage, then put back every file of the archive."""
    storage = media_storage()
    for name in list(walk(storage)):
        storage.delete(name)
    with tarfile.open(source / MEDIA_ARCHIVE, "r:gz") as archive:
        for member in archive:
            if not member.isfile():
                continue
            name = PurePosixPath(member.name)
            if name.is_absolute() or ".." in name.parts:
                raise BackupError(f"{MEDIA_ARCHIVE} names an unsafe path: {name}")
            handle = archive.extractfile(member)
            saved = storage.save(str(name), File(handle, name=name.name))
            if saved != str(name):
                raise BackupError(f"media file {name} was stored as {saved}")


def restore_backup(*, storage: Storage, name: str, dry_run: bool = False) -> dict:
    """Verify a backup, then replace the database and media with its contents."""
    try:
        with (
            storage_errors(),
            tempfile.TemporaryDirectory(prefix="skincare-restore-") as work,
        ):
            manifest = verify_backup(storage, name, Path(work))
            if manifest["database"]["vendor"] != connection.vendor:
                raise BackupError(
                    f"backup is of a {manifest['database']['vendor']} database, the "
                    f"configured one is {connection.vendor}"
                )
            if not dry_run:
                _restore_database(Path(work), manifest)
                _restore_media(Path(work))
    except StorageUnavailable as exc:
        raise BackupError(f"storage unavailable: {exc.__cause__ or exc}") from exc
    return manifest
