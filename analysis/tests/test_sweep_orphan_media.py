"""`sweep_orphan_media`: files no row names go once past the grace period, nothing else.

Each behaviour runs on both backends (`storage_backend`: a local folder, then a
SeaweedFS bucket). The store-down tests stop a SeaweedFS server of this module's
own, so the session's one stays up for the other tests.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from analysis import services
from analysis.models import Analysis
from analysis.tests.factories import (
    AnalysisFactory,
    face_jpeg_with_gps,
    waiting_analysis,
)
from consultations.tests.factories import JPEG, DermatologistFactory
from skincare.storage import backup_storage, walk

pytestmark = pytest.mark.django_db

PAST_GRACE = timedelta(hours=25)  # MEDIA_ORPHAN_GRACE_HOURS is 24 by default


def put(name: str, data: bytes = b"orphan", storage=None) -> str:
    storage = storage or default_storage
    saved = storage.save(name, ContentFile(data))
    assert saved == name
    return name


def sweep(*args: str) -> str:
    out = StringIO()
    call_command("sweep_orphan_media", *args, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def a_day_later(monkeypatch):
    """The clock the command reads, 25 hours on (the store's clock stays)."""
    later = timezone.now() + PAST_GRACE
    monkeypatch.setattr(timezone, "now", lambda: later)
    return later


def test_an_orphan_past_the_grace_period_is_deleted(storage_backend, a_day_later):
    # given a raw upload no analysis names any more, stored a day ago
    orphan = put("uploads/0123456789abcdef0123456789abcdef")

    # when the sweep runs
    summary = sweep()

    # then it is gone, and a second run finds nothing to do
    assert summary == "scanned=1 referenced=0 young=0 deleted=1"
    assert not default_storage.exists(orphan)
    assert list(walk(default_storage)) == []
    assert sweep() == "scanned=0 referenced=0 young=0 deleted=0"


def test_a_young_orphan_is_kept(storage_backend):
    # an upload in flight: stored, its row not committed yet
    young = put("uploads/fedcba9876543210fedcba9876543210")

    assert sweep() == "scanned=1 referenced=0 young=1 deleted=0"
    assert default_storage.exists(young)


def test_photos_and_raw_uploads_rows_name_are_kept(storage_backend, a_day_later):
    photo = put("photos/aaaa.jpg")
    AnalysisFactory(status=Analysis.Status.COMPLETED, answers=None, photo=photo)
    waiting = waiting_analysis()
    orphan = put("photos/bbbb.jpg")

    assert sweep() == "scanned=3 referenced=2 young=0 deleted=1"
    assert sorted(walk(default_storage)) == sorted([photo, waiting.raw_upload.name])
    assert not default_storage.exists(orphan)


def test_dermatologist_photos_are_kept(storage_backend, a_day_later):
    dermatologist = DermatologistFactory(photo=ContentFile(JPEG, name="face.jpg"))
    assert dermatologist.photo.name.startswith("dermatologists/")
    orphan = put("dermatologists/cccc.jpg")

    assert sweep() == "scanned=2 referenced=1 young=0 deleted=1"
    assert list(walk(default_storage)) == [dermatologist.photo.name]
    assert not default_storage.exists(orphan)


def test_a_dry_run_lists_the_orphans_and_deletes_nothing(storage_backend, a_day_later):
    orphan = put("uploads/dddd")
    photo = put("photos/eeee.jpg")
    AnalysisFactory(status=Analysis.Status.COMPLETED, answers=None, photo=photo)

    output = sweep("--dry-run")

    assert output.splitlines() == [
        f"[dry run] would delete {orphan}",
        "[dry run] scanned=2 referenced=1 young=0 would_delete=1",
    ]
    assert sorted(walk(default_storage)) == sorted([orphan, photo])


def test_backups_are_never_swept(storage_backend):
    backup = put("20260101T023000Z/manifest.json", b"{}", storage=backup_storage())

    summary = services.sweep_orphan_media(now=timezone.now() + timedelta(days=400))

    assert summary.orphans == ()
    assert backup_storage().exists(backup)


def test_backups_inside_the_media_folder_are_never_swept(
    storage_backend, settings, media_root
):
    # given BACKUP_DIR under MEDIA_ROOT (or the backups' prefix under media/)
    if storage_backend == "filesystem":
        inside = {"location": str(media_root / "backups")}
    else:
        inside = {
            **settings.STORAGES["default"]["OPTIONS"],
            "location": f"{default_storage.location}/backups",
        }
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": {**settings.STORAGES["backups"], "OPTIONS": inside},
    }
    backup = put("20260101T023000Z/media.tar.gz", b"tar", storage=backup_storage())
    assert "backups/20260101T023000Z/media.tar.gz" in list(walk(default_storage))
    orphan = put("uploads/ffff")

    summary = services.sweep_orphan_media(now=timezone.now() + timedelta(days=400))

    assert summary.orphans == (orphan,)
    assert backup_storage().exists(backup)


def test_an_unreadable_media_folder_fails_the_command(
    settings, media_root, tmp_path, monkeypatch
):
    monkeypatch.delenv("STORAGE_URL", raising=False)
    settings.STORAGE_URL = ""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    orphan = put("uploads/0000")
    later = timezone.now() + PAST_GRACE
    monkeypatch.setattr(timezone, "now", lambda: later)
    # MEDIA_ROOT a file, not a folder: listing it fails like a broken disk
    not_a_folder = tmp_path / "not-a-folder"
    not_a_folder.write_bytes(b"")
    settings.MEDIA_ROOT = not_a_folder

    with pytest.raises(CommandError, match="unavailable"):
        sweep()

    settings.MEDIA_ROOT = media_root
    assert default_storage.exists(orphan)
    assert sweep() == "scanned=1 referenced=0 young=0 deleted=1"


# ------------------------------------------------------------------------------
# The store is down
# ------------------------------------------------------------------------------
def test_a_store_down_fails_the_command_and_deletes_nothing(bucket, a_day_later):
    # given an orphan and a photo its analysis names, and the store goes down
    orphan = put("uploads/1111")
    photo = put("photos/2222.jpg")
    analysis = AnalysisFactory(
        status=Analysis.Status.COMPLETED, answers=None, photo=photo
    )
    bucket.stop(kill=True)

    # when the sweep runs, it says so and exits non-zero
    with pytest.raises(CommandError, match="unavailable") as failed:
        sweep()
    assert failed.value.returncode == 1

    # then nothing changed: both objects and the row are there once it is back
    bucket.start()
    assert sorted(walk(default_storage)) == sorted([orphan, photo])
    assert Analysis.objects.get().photo.name == analysis.photo.name
    assert sweep() == "scanned=2 referenced=1 young=0 deleted=1"


def test_a_raw_upload_left_by_a_failed_deletion_is_swept(
    bucket,
    consenting_user,
    client_for,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    # given an upload whose worker ran, and the store down as the raw upload's
    # deletion (after the commit) is tried: the deletion fails, is only logged
    client = client_for(consenting_user)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            "/api/v1/analyses/",
            {
                "photo": SimpleUploadedFile(
                    "face.jpg", face_jpeg_with_gps(), "image/jpeg"
                )
            },
            format="multipart",
        )
    raw_name = Analysis.objects.get().raw_upload.name
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        analysis = services.run_analysis(analysis_id=response.json()["id"])
    assert analysis.status == Analysis.Status.COMPLETED, analysis.failure_detail
    bucket.stop(kill=True)
    for callback in after_commit:
        callback()
    bucket.start()
    assert sorted(walk(default_storage)) == sorted([raw_name, analysis.photo.name])

    # when the sweep runs a day later
    summary = services.sweep_orphan_media(now=timezone.now() + PAST_GRACE)

    # then the orphan raw upload is gone and the analysis keeps its photo
    assert summary.orphans == (raw_name,)
    assert list(walk(default_storage)) == [analysis.photo.name]


def test_a_grace_period_under_an_hour_refuses_to_start():
    from skincare.tests.test_settings import run_check

    result = run_check({"DJANGO_DEBUG": "true", "MEDIA_ORPHAN_GRACE_HOURS": "0"})

    assert result.returncode != 0
    assert "MEDIA_ORPHAN_GRACE_HOURS must be at least 1" in result.stderr
