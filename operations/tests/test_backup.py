"""backup / restore commands: manifest, checksums, retention and a restore drill."""

import io
import json
import tarfile
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
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
from skincare.storage import backup_storage, walk
from skincare.testing import require_postgres

PASSWORD = "drill-Password-7391"

# A backup reads committed data from another connection or process (pg_dump), so
# these tests commit for real. Each runs with media and backups in local folders and
# again in a SeaweedFS bucket (storage_backend).
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("storage_backend"),
]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def put(name: str, content: bytes) -> None:
    default_storage.delete(name)
    assert default_storage.save(name, ContentFile(content)) == name


def read(storage, name: str) -> bytes:
    with storage.open(name, "rb") as handle:
        return handle.read()


def test_backup_writes_a_dated_folder_with_manifest_and_checksums(user):
    put("photos/a.jpg", b"photo-bytes")

    output = run("backup")

    storage = backup_storage()
    [name] = list_backups()
    assert datetime.strptime(name, "%Y%m%dT%H%M%SZ")
    assert output.count("\n") == 1
    assert f"/{name} written" in output
    manifest = json.loads(read(storage, f"{name}/manifest.json"))
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["database"]["name"]
    assert "0001_initial" in manifest["migrations"]["accounts"]
    assert set(manifest["files"]) == {
        "database.dump" if connection.vendor == "postgresql" else "database.sqlite3",
        "media.tar.gz",
    }
    for file_name, meta in manifest["files"].items():
        assert storage.size(f"{name}/{file_name}") == meta["size"]
    sums = read(storage, f"{name}/SHA256SUMS").decode()
    assert "manifest.json" in sums
    assert "media.tar.gz" in sums
    archive = io.BytesIO(read(storage, f"{name}/media.tar.gz"))
    with tarfile.open(fileobj=archive) as tar:
        assert tar.getnames() == ["photos/a.jpg"]
        assert tar.extractfile("photos/a.jpg").read() == b"photo-bytes"


def test_restore_refuses_a_backup_whose_checksum_does_not_match():
    put("photos/a.jpg", b"original")
    result = create_backup()
    storage = backup_storage()
    archive = f"{result.name}/media.tar.gz"
    tampered = read(storage, archive) + b"tampered"
    storage.delete(archive)
    storage.save(archive, ContentFile(tampered))
    put("photos/a.jpg", b"current")

    with pytest.raises(CommandError, match="checksum mismatch") as error:
        call_command("restore", "--from", result.name)

    assert error.value.returncode == 3
    assert read(default_storage, "photos/a.jpg") == b"current"


def test_restore_dry_run_only_verifies():
    result = create_backup()
    put("photos/new.jpg", b"new")

    output = run("restore", "--from", result.name, "--dry-run")

    assert output.startswith("dry run:")
    assert "verified" in output
    assert default_storage.exists("photos/new.jpg")


def test_an_unfinished_backup_is_neither_listed_nor_restored():
    result = create_backup()
    backup_storage().delete(f"{result.name}/SHA256SUMS")

    assert list_backups() == []
    with pytest.raises(CommandError, match="is not a backup") as error:
        call_command("restore", "--from", result.name)
    assert error.value.returncode == 3


def test_backup_keep_prunes_the_oldest_backups():
    for day in (1, 2, 3):
        create_backup(now=datetime(2025, 1, day, 2, 30, tzinfo=UTC))

    dry = run("backup", "--keep", "2", "--dry-run")
    assert "pruning 2 old backup(s)" in dry
    assert len(list_backups()) == 3

    output = run("backup", "--keep", "2")

    kept = list_backups()
    assert len(kept) == 2
    assert kept[0] == "20250103T023000Z"
    assert "pruned 2 old backup(s)" in output
    assert not list(walk(backup_storage(), "20250101T023000Z"))


def test_restore_brings_back_rows_and_media_on_the_configured_database(user):
    """Works on both vendors: SQLite through the online backup API."""
    notify(user=user, kind="welcome")
    put("photos/kept.jpg", b"kept")
    result = create_backup()
    Notification.objects.all().delete()
    default_storage.delete("photos/kept.jpg")
    put("photos/stray.jpg", b"stray")

    run("restore", "--from", result.name)

    assert Notification.objects.filter(recipient=user, kind="welcome").exists()
    assert list(walk(default_storage)) == ["photos/kept.jpg"]
    assert read(default_storage, "photos/kept.jpg") == b"kept"


def test_a_local_folder_given_on_the_command_line_works_both_ways(tmp_path):
    put("photos/a.jpg", b"a")

    run("backup", "--dest", str(tmp_path / "local"))
    [folder] = (tmp_path / "local").iterdir()
    default_storage.delete("photos/a.jpg")
    run("restore", "--from", str(folder))

    assert (folder / "SHA256SUMS").is_file()
    assert read(default_storage, "photos/a.jpg") == b"a"


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


def test_restore_drill_on_postgresql():
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
    output = run("backup")
    [name] = list_backups()
    assert f"/{name} written" in output
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(format('%I', tablename), ', ') FROM pg_tables "
            "WHERE schemaname = 'public'"
        )
        cursor.execute(f"TRUNCATE {cursor.fetchone()[0]} CASCADE")
    assert not User.objects.exists()
    assert not Analysis.objects.exists()
    for stored in list(walk(default_storage)):
        default_storage.delete(stored)

    run("restore", "--from", name)

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
