from django.conf import settings
from django.core.management.base import BaseCommand

from idempotency.services import purge_expired_keys


class Command(BaseCommand):
    help = (
        "Delete Idempotency-Key records older than IDEMPOTENCY_KEY_HOURS, with the "
        "answers they keep for replay. Idempotent. Run by cron hourly, e.g. 20 * * * *."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count the expired keys without deleting them.",
        )

    def handle(self, *args, dry_run: bool = False, **options):
        summary = purge_expired_keys(dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(
            f"purge_idempotency_keys: {verb} {summary.deleted} expired keys "
            f"(lifetime {settings.IDEMPOTENCY_KEY_HOURS} hours)"
        )
