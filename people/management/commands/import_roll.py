"""manage.py import_roll --nursery "Kids Count" FILE.csv [--invite] [--dry-run] [--valid-rows-only]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from nursery.errors import ServiceError
from nursery.models import Nursery
from people import services
from people.roll import RollFileError


class Command(BaseCommand):
    help = "Import children, rooms and parents or carers from a roll CSV (one row per child and guardian)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--nursery", required=True, help="The nursery's name, exactly.")
        parser.add_argument("--invite", action="store_true", help="Email an invitation to each new parent or carer.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; write nothing.")
        parser.add_argument("--valid-rows-only", action="store_true",
                            help="Import the valid rows of a file that has errors (otherwise nothing is written).")

    def handle(self, *args, file: Path, nursery: str, invite: bool, dry_run: bool, valid_rows_only: bool, **options):
        found = Nursery.objects.filter(name=nursery).first()
        if found is None:
            raise CommandError(f"No nursery is called {nursery!r}.")
        try:
            content = file.read_bytes()
            plan = services.preview_roll(found, content)
        except (OSError, RollFileError) as exc:
            raise CommandError(str(exc)) from exc
        counts = plan.counts
        self.stdout.write(
            f"{counts['add']} row(s) to add, {counts['change']} to change, {counts['unchanged']} unchanged, "
            f"{counts['errors']} with errors; {len(plan.rooms_to_add)} new room(s), "
            f"{len(plan.new_children)} new child(ren), {len(plan.new_guardians)} new parent(s) or carer(s)."
        )
        for error in plan.errors:
            self.stdout.write(f"  line {error.line}: {error.message}")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
            return
        try:
            services.import_roll(None, nursery=found, content=content, invite=invite,
                                 valid_rows_only=valid_rows_only)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS("Imported." + (" Invitations are being emailed." if invite else "")))
