from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from nursery.backup import BackupError, restore


class Command(BaseCommand):
    help = "Rebuild an empty database and an empty MEDIA_ROOT from an archive written by `manage.py backup`."

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)

    def handle(self, *args, archive: Path, **options):
        try:
            manifest = restore(archive)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Restored the backup of {manifest['created_at']}.")
        if not manifest["key_matches"]:
            self.stderr.write("FIELD_ENCRYPTION_KEY is not the key this backup was written with: Page tokens will "
                              "not decrypt until it is (reconnect the channels if that key is lost).")
