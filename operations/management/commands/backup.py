from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from operations.backups import (
    BackupError,
    backup_location,
    create_backup,
    list_backups,
    prune_backups,
)
from skincare.storage import describe, media_storage


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump custom format; SQLite online backup) and the "
        "media storage into YYYYmmddTHHMMSSZ/ of the backup storage (BACKUP_DIR, or "
        "the bucket's backups/ with STORAGE_URL / BACKUP_STORAGE_URL) with a "
        "manifest and checksums, then keep the newest --keep backups. Cron: nightly "
        "(ops/crontab, 02:30 UTC)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dest",
            type=Path,
            default=None,
            help="A local folder of backups instead of the backup storage.",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=None,
            help="Backups to keep, older ones are deleted (BACKUP_KEEP; 0: keep all).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would happen, do nothing."
        )

    def handle(self, *args, dest, keep, dry_run, **options):
        storage = backup_location(dest)
        keep = settings.BACKUP_KEEP if keep is None else keep
        if keep < 0:
            raise CommandError("--keep cannot be negative", returncode=2)
        if dry_run:
            existing = list_backups(storage)
            doomed = existing[: max(len(existing) + 1 - keep, 0)] if keep else []
            self.stdout.write(
                f"dry run: would back up the {settings.DATABASES['default']['NAME']} "
                f"database and {describe(media_storage())} into {describe(storage)}/, "
                f"pruning {len(doomed)} old backup(s)"
            )
            return
        try:
            result = create_backup(storage=storage)
            pruned = prune_backups(storage=storage, keep=keep) if keep else []
        except BackupError as exc:
            raise CommandError(f"backup failed: {exc}") from exc
        sizes = ", ".join(f"{name} {size} B" for name, size in result.files.items())
        self.stdout.write(
            f"backup {result.where} written ({sizes}); "
            f"pruned {len(pruned)} old backup(s)"
        )
