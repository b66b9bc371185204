"""How long does importing a roll of 10,000 rows take (the issue asks for under 30 s)?

Builds a throwaway test database (SQLite by default; PostgreSQL with DATABASE_URL), writes a CSV of N rows
(N/2 children with two parents or carers each, in 12 rooms, a third of the dates as DD/MM/YYYY), then times
the preview, the import (with invitations through the outbox), and importing the same file again.

    .venv/bin/python bench/import_roll.py [--rows 10000]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nursery.settings")


def roll_csv(rows: int) -> bytes:
    from datetime import date, timedelta

    lines = ["room,child_first_name,child_last_name,date_of_birth,joined_on,guardian_name,guardian_email,"
             "relationship,parental_responsibility"]
    for i in range(rows):
        child = i // 2
        born = date(2021, 1, 1) + timedelta(days=child % 1200)
        joined = born + timedelta(days=400)
        fmt = "%d/%m/%Y" if child % 3 == 0 else "%Y-%m-%d"
        who = ("mother", "father")[i % 2]
        lines.append(f"Room {child % 12},Child{child},Family{child},{born.strftime(fmt)},{joined.strftime(fmt)},"
                     f"{who.title()} Family{child},{who}.{child}@bench.example,{who},{'yes' if i % 7 else 'no'}")
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from nursery.models import Nursery
    from people import services

    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        nursery = Nursery.objects.create(name="Bench Nursery")
        content = roll_csv(args.rows)
        print(f"{connection.vendor}: {args.rows} rows, {len(content) / 1e6:.1f} MB")
        for label, work in (
            ("preview", lambda: services.preview_roll(nursery, content)),
            ("import (with --invite)", lambda: services.import_roll(None, nursery=nursery, content=content,
                                                                    invite=True)),
            ("import the same file again", lambda: services.import_roll(None, nursery=nursery, content=content)),
        ):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                plan = work()
                elapsed = time.perf_counter() - start
            print(f"{label:<28} {elapsed:6.2f} s  {len(queries.captured_queries):>5} queries  {plan.counts}")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
