from django.core.management.base import BaseCommand

from consultations import services


class Command(BaseCommand):
    help = (
        "Send consultation reminders 24 h and 1 h before the start, each once. "
        "Run by cron every 5 minutes; safe to run twice or concurrently."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count due reminders, send none."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        counts = services.send_due_reminders(dry_run=dry_run)
        verb = "due" if dry_run else "sent"
        self.stdout.write(
            f"consultation reminders {verb}: 24h={counts['24h']} 1h={counts['1h']}"
            + (" (dry run)" if dry_run else "")
        )
