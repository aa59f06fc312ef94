from django.core.management.base import BaseCommand

from notifications.services import dispatch_pending_deliveries


class Command(BaseCommand):
    help = (
        "Re-enqueue e-mail and push deliveries left pending or stuck in sending (dead "
        "worker, broker down, quiet hours over). Cron: every minute; safe while "
        "workers run."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count, change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        summary = dispatch_pending_deliveries(dry_run=dry_run)
        prefix = "[dry run] " if dry_run else ""
        self.stdout.write(
            f"{prefix}requeued={summary.requeued} recovered_from_sending="
            f"{summary.recovered} given_up={summary.given_up}"
        )
