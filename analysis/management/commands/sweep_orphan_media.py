from django.core.management.base import BaseCommand, CommandError

from analysis.services import sweep_orphan_media
from skincare.storage import StorageUnavailable, describe, media_storage


class Command(BaseCommand):
    help = (
        "Delete media files (analysis photos and raw uploads, dermatologist photos) "
        "that no row names and that are older than MEDIA_ORPHAN_GRACE_HOURS: what a "
        "store failure leaves when a file is deleted after its row. Never touches "
        "backups. Exits non-zero, deleting nothing more, when the store is down. "
        "Cron: daily (ops/crontab, 03:50 UTC)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would go, delete nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        try:
            summary = sweep_orphan_media(dry_run=dry_run)
        except StorageUnavailable as exc:
            raise CommandError(
                f"media storage {describe(media_storage())} unavailable "
                f"({exc.__cause__ or exc}); nothing more was deleted, the next run "
                "retries"
            ) from exc
        prefix = "[dry run] " if dry_run else ""
        if dry_run:
            for name in summary.orphans:
                self.stdout.write(f"{prefix}would delete {name}")
        self.stdout.write(
            f"{prefix}scanned={summary.scanned} referenced={summary.referenced} "
            f"young={summary.young} "
            f"{'would_delete' if dry_run else 'deleted'}={len(summary.orphans)}"
        )
