from django.core.management.base import BaseCommand

from analysis.services import redrive_stuck_analyses


class Command(BaseCommand):
    help = (
        "Re-enqueue analyses stuck in pending or processing for longer than "
        "ANALYSIS_STUCK_AFTER_MINUTES (dead worker, broker down); those that used up "
        "ANALYSIS_MAX_ATTEMPTS fail with processing_timeout. Cron: every 5 minutes; "
        "safe while workers run."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count, change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        summary = redrive_stuck_analyses(dry_run=dry_run)
        prefix = "[dry run] " if dry_run else ""
        self.stdout.write(
            f"{prefix}requeued={summary.requeued} timed_out={summary.timed_out}"
        )
