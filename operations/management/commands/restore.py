from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.management.base import BaseCommand, CommandError

from operations.backups import BackupError, VerificationError, restore_backup
from skincare.storage import backup_storage, describe, media_storage

# Exit codes: 0 restored (or verified, with --dry-run), 1 restore failed, 3 the backup
# failed verification and nothing was touched.
EXIT_VERIFICATION_FAILED = 3


class Command(BaseCommand):
    help = (
        "Verify a backup's checksums, then replace the configured database "
        "(pg_restore --clean --if-exists --no-owner) and the media storage with it. "
        "Run by hand; stop web, worker and cron first."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from",
            dest="source",
            required=True,
            help="A backup's name in the backup storage (20250101T023000Z), or a "
            "local backup folder (/backups/20250101T023000Z).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only verify the checksums; change nothing.",
        )

    def handle(self, *args, source, dry_run, **options):
        folder = Path(source)
        if folder.is_dir():
            storage, name = FileSystemStorage(location=str(folder.parent)), folder.name
        else:
            storage, name = backup_storage(), source
        where = f"{describe(storage)}/{name}"
        try:
            manifest = restore_backup(storage=storage, name=name, dry_run=dry_run)
        except VerificationError as exc:
            raise CommandError(
                f"refusing to restore: {exc}", returncode=EXIT_VERIFICATION_FAILED
            ) from exc
        except BackupError as exc:
            raise CommandError(f"restore failed: {exc}") from exc
        database = settings.DATABASES["default"]["NAME"]
        media = describe(media_storage())
        if dry_run:
            self.stdout.write(
                f"dry run: {where} verified ({manifest['created_at']}); would restore "
                f"it into the {database} database and {media}"
            )
            return
        self.stdout.write(
            f"restored {where} ({manifest['created_at']}) into the {database} "
            f"database and {media}"
        )
