from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from nursery.backup import backup


class Command(BaseCommand):
    help = "Write the database and MEDIA_ROOT to one archive (never the encryption key: keep that apart)."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="archive path (default: $VAR_DIR/backups/<time>.tar.gz)")

    def handle(self, *args, output=None, **options):
        output = output or settings.VAR_DIR / "backups" / f"safe-sharing-{datetime.now(UTC):%Y%m%d-%H%M%S}.tar.gz"
        path = backup(output)
        self.stdout.write(f"Backup written to {path} ({path.stat().st_size:,} bytes). Keep FIELD_ENCRYPTION_KEY "
                          "safe separately: the Page tokens in it cannot be read without it.")
