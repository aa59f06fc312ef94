from django.core.management.base import BaseCommand

from routines.services import send_routine_reminders


class Command(BaseCommand):
    help = (
        "Send routine reminders whose local time has passed today to users who have "
        "not checked in yet; once per routine and local day. Cron: every 5 minutes; "
        "safe to run twice or overlapping."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count, send nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        summary = send_routine_reminders(dry_run=dry_run)
        prefix = "[dry run] " if dry_run else ""
        self.stdout.write(
            f"{prefix}due={summary.considered} sent={summary.sent} "
            f"already_sent={summary.already_sent} checked_in={summary.checked_in} "
            f"nothing_scheduled={summary.nothing_scheduled} failed={summary.failed}"
        )
        if summary.failed:
            self.stderr.write("failed routines: " + ", ".join(summary.failed_ids))
            raise SystemExit(1)
