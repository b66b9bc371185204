"""Print the demo authenticator's current two-factor code (the key seed_demo gives the demo leaders)."""

from django.core.management.base import BaseCommand

from nursery import twofactor


class Command(BaseCommand):
    help = "Print the current code of the demo authenticator (demo leaders, safeguarding lead and admin)."

    def handle(self, *args, **options):
        self.stdout.write(twofactor.demo_code())
