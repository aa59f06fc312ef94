from django.core.management.base import BaseCommand

from operations.demo import seed_demo


class Command(BaseCommand):
    help = (
        "Create the demo admin, patient and dermatologist (idempotent; development "
        "mode only) and print how to sign in. Run by `make run`, never by cron."
    )

    def handle(self, *args, **options):
        for line in seed_demo():
            self.stdout.write(line)
