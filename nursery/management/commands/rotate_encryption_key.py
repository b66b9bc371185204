from django.core.management.base import BaseCommand

from nursery.crypto import rotate_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEY. Rotate a key by putting the "
        "new key first (keeping the old one after it), running this, then removing the old key."
    )

    def handle(self, *args, **options):
        count = rotate_all()
        self.stdout.write(f"Re-encrypted {count} stored secret(s) with the current key.")
