from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.lifecycle import purge_deleted_accounts


class Command(BaseCommand):
    help = (
        "Erase accounts soft-deleted more than ACCOUNT_PURGE_AFTER_DAYS ago: personal "
        "fields anonymised, every app's data erased. Idempotent. Run by cron daily, "
        "e.g. 30 3 * * *."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count the accounts due for erasure without changing anything.",
        )

    def handle(self, *args, dry_run: bool = False, **options):
        summary = purge_deleted_accounts(dry_run=dry_run)
        days = settings.ACCOUNT_PURGE_AFTER_DAYS
        verb = "would purge" if dry_run else "purged"
        line = (
            f"purge_deleted_accounts: {verb} {summary.purged}, failed {summary.failed} "
            f"(retention {days} days)"
        )
        if summary.failed:
            raise CommandError(f"{line}; failed ids: {', '.join(summary.failed_ids)}")
        self.stdout.write(line)
