from django.core.management.base import BaseCommand

from analysis.services import purge_old_photos


class Command(BaseCommand):
    help = (
        "Delete analysis photo files older than ANALYSIS_PHOTO_RETENTION_DAYS; scores "
        "and answers stay. Does nothing when the setting is unset. Cron: daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count, change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        purged = purge_old_photos(dry_run=dry_run)
        prefix = "[dry run] " if dry_run else ""
        if purged is None:
            self.stdout.write(f"{prefix}retention off (ANALYSIS_PHOTO_RETENTION_DAYS)")
            return
        self.stdout.write(f"{prefix}purged={purged}")
