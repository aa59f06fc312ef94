from django.core.management.base import BaseCommand

from accounts.demo import seed_demo


class Command(BaseCommand):
    help = (
        "Create the demo admin and demo patient (idempotent) and print how to sign in."
    )

    def handle(self, *args, **options):
        for line in seed_demo():
            self.stdout.write(line)
