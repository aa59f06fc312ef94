"""backup / restore commands: manifest, checksums, retention and a restore drill."""

import json
import tarfile
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.models import User
from analysis.models import Analysis
from analysis.tests.factories import face_jpeg_with_gps
from notifications.models import Notification
from notifications.services import notify
from operations.backups import create_backup, list_backups
from skincare.testing import require_postgres

PASSWORD = "drill-Password-7391"

# A backup reads committed data from another connection or process (pg_dump), so
# these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    (root / "photos").mkdir(parents=True)
    settings.MEDIA_ROOT = root
    return root


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_backup_writes_a_dated_folder_with_manifest_and_checksums(
    media_root, tmp_path, user
):
    (media_root / "photos" / "a.jpg").write_bytes(b"photo-bytes")

    output = run("backup", "--dest", str(tmp_path / "backups"))

    [folder] = list_backups(tmp_path / "backups")
    assert datetime.strptime(folder.name, "%Y%m%dT%H%M%SZ")
    assert output.count("\n") == 1
    assert str(folder) in output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["database"]["name"]
    assert "0001_initial" in manifest["migrations"]["accounts"]
    assert set(manifest["files"]) == {
        "database.dump" if connection.vendor == "postgresql" else "database.sqlite3",
        "media.tar.gz",
    }
    for name, meta in manifest["files"].items():
        assert (folder / name).stat().st_size == meta["size"]
    sums = (folder / "SHA256SUMS").read_text()
    assert "manifest.json" in sums
    assert "media.tar.gz" in sums
    with tarfile.open(folder / "media.tar.gz") as archive:
        assert "photos/a.jpg" in archive.getnames()


def test_restore_refuses_a_backup_whose_checksum_does_not_match(media_root, tmp_path):
    (media_root / "photos" / "a.jpg").write_bytes(b"original")
    result = create_backup(dest=tmp_path)
    with (result.path / "media.tar.gz").open("ab") as handle:
        handle.write(b"tampered")
    (media_root / "photos" / "a.jpg").write_bytes(b"current")

    with pytest.raises(CommandError, match="checksum mismatch") as error:
        call_command("restore", "--from", str(result.path))

    assert error.value.returncode == 3
    assert (media_root / "photos" / "a.jpg").read_bytes() == b"current"


def test_restore_dry_run_only_verifies(media_root, tmp_path):
    result = create_backup(dest=tmp_path)
    (media_root / "photos" / "new.jpg").write_bytes(b"new")

    output = run("restore", "--from", str(result.path), "--dry-run")

    assert output.startswith("dry run:")
    assert "verified" in output
    assert (media_root / "photos" / "new.jpg").exists()


def test_backup_keep_prunes_the_oldest_backups(media_root, tmp_path):
    for day in (1, 2, 3):
        create_backup(dest=tmp_path, now=datetime(2025, 1, day, 2, 30, tzinfo=UTC))

    dry = run("backup", "--dest", str(tmp_path), "--keep", "2", "--dry-run")
    assert "pruning 2 old backup(s)" in dry
    assert len(list_backups(tmp_path)) == 3

    output = run("backup", "--dest", str(tmp_path), "--keep", "2")

    kept = list_backups(tmp_path)
    assert len(kept) == 2
    assert kept[0].name == "20250103T023000Z"
    assert "pruned 2 old backup(s)" in output


def test_restore_brings_back_rows_and_media_on_the_configured_database(
    media_root, tmp_path, user
):
    """Works on both vendors: SQLite through the online backup API."""
    notify(user=user, kind="welcome")
    (media_root / "photos" / "kept.jpg").write_bytes(b"kept")
    result = create_backup(dest=tmp_path)
    Notification.objects.all().delete()
    (media_root / "photos" / "kept.jpg").unlink()
    (media_root / "photos" / "stray.jpg").write_bytes(b"stray")

    run("restore", "--from", str(result.path))

    assert Notification.objects.filter(recipient=user, kind="welcome").exists()
    assert (media_root / "photos" / "kept.jpg").read_bytes() == b"kept"
    assert not (media_root / "photos" / "stray.jpg").exists()


def _signed_in_client(email: str):
    from rest_framework.test import APIClient

    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"email": email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


def _optional_rows() -> dict[str, int]:
    """Counts of other apps' rows whose models exist (routines, consultations)."""
    counts = {}
    for label in ("routines.Routine", "consultations.Consultation"):
        try:
            counts[label] = apps.get_model(label).objects.count()
        except LookupError:
            continue
    return counts


def _seed_optional_rows(user) -> None:
    """Rows of apps that ship factories; absent factories are simply skipped."""
    for module, factory_name, field in (
        ("routines.tests.factories", "RoutineFactory", "user"),
        ("consultations.tests.factories", "ConsultationFactory", "patient"),
    ):
        try:
            factory = getattr(__import__(module, fromlist=[factory_name]), factory_name)
        except (ImportError, AttributeError):
            continue
        try:
            factory(**{field: user})
        except Exception:
            factory()


def test_restore_drill_on_postgresql(media_root, tmp_path):
    require_postgres()
    from rest_framework.test import APIClient

    # given users registered and signed in through the API, with notifications,
    # an analysis with its photo, and other apps' rows where they exist
    anonymous = APIClient()
    emails = [f"drill{n}@example.com" for n in range(2)]
    for email in emails:
        response = anonymous.post(
            "/api/v1/auth/register/",
            {"email": email, "password": PASSWORD},
            format="json",
        )
        assert response.status_code == 201, response.content
    User.objects.filter(email__in=emails).update(
        email_verified_at=timezone.now(), consent_photo_analysis_at=timezone.now()
    )
    owner = User.objects.get(email=emails[0])
    client = _signed_in_client(emails[0])
    notify(user=owner, kind="routine_reminder", idempotency_key="drill-reminder")
    upload = client.post(
        "/api/v1/analyses/",
        {"photo": SimpleUploadedFile("f.jpg", face_jpeg_with_gps(), "image/jpeg")},
        format="multipart",
    )
    assert upload.status_code == 202, upload.content
    analysis_id = upload.json()["id"]
    photo = b"".join(client.get(f"/api/v1/analyses/{analysis_id}/photo/"))
    assert photo[:3] == b"\xff\xd8\xff"
    _seed_optional_rows(owner)
    users_before = sorted(User.objects.values_list("email", flat=True))
    notifications_before = sorted(
        str(pk) for pk in Notification.objects.values_list("pk", flat=True)
    )
    optional_before = _optional_rows()

    # when it is backed up, every table emptied, the media deleted, and restored
    output = run("backup", "--dest", str(tmp_path / "backups"))
    [folder] = list_backups(tmp_path / "backups")
    assert str(folder) in output
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(format('%I', tablename), ', ') FROM pg_tables "
            "WHERE schemaname = 'public'"
        )
        cursor.execute(f"TRUNCATE {cursor.fetchone()[0]} CASCADE")
    assert not User.objects.exists()
    assert not Analysis.objects.exists()
    for path in sorted(Path(media_root).rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()

    run("restore", "--from", str(folder))

    # then everything came back, readable through the API
    assert sorted(User.objects.values_list("email", flat=True)) == users_before
    assert (
        sorted(str(pk) for pk in Notification.objects.values_list("pk", flat=True))
        == notifications_before
    )
    assert _optional_rows() == optional_before
    client = _signed_in_client(emails[0])
    feed = client.get("/api/v1/notifications/").json()
    assert any(item["kind"] == "routine_reminder" for item in feed["results"])
    detail = client.get(f"/api/v1/analyses/{analysis_id}/")
    assert detail.status_code == 200
    restored = b"".join(client.get(f"/api/v1/analyses/{analysis_id}/photo/"))
    assert restored == photo
