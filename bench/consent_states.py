"""How long does the effective-consent rule take for a nursery group's worth of children?

Builds a throwaway test database (SQLite by default; PostgreSQL with DATABASE_URL) holding N children on
roll, two guardians each with parental responsibility, and a ledger of grants, renewals and withdrawals
over two years, then times ``consent_states`` for every child, for the 30 children of one post's photos,
and the register page's query, printing queries and milliseconds.

    .venv/bin/python bench/consent_states.py [--children 2000] [--repeat 5]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nursery.settings")


def build(children: int):
    from datetime import date, timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from consent.models import ConsentDecision, ConsentWording, Decision, Method, Scope
    from nursery.models import Child, Guardianship, Nursery, Room

    now = timezone.now()
    nursery = Nursery.objects.create(name="Bench Nursery")
    rooms = [Room.objects.create(nursery=nursery, name=f"Room {i}") for i in range(6)]
    wordings = {
        (scope, v): ConsentWording.objects.create(nursery=nursery, scope=scope, version=v, text="x",
                                                  published_at=now - timedelta(days=800 - 300 * v))
        for scope in Scope.values for v in (1, 2)
    }
    kids = Child.objects.bulk_create([
        Child(nursery=nursery, room=rooms[i % 6], first_name=f"C{i}", last_name="Bench",
              date_of_birth=date(2023, 1, 1), joined_on=date(2024, 1, 1)) for i in range(children)
    ])
    users = get_user_model().objects.bulk_create([
        get_user_model()(username=f"bench-guardian-{i}") for i in range(2 * children)
    ])
    Guardianship.objects.bulk_create([
        Guardianship(user=users[2 * i + j], child=kid, relationship="parent")
        for i, kid in enumerate(kids) for j in (0, 1)
    ])
    decisions = []
    for i, kid in enumerate(kids):
        for j, scope in enumerate(Scope.values):
            guardian = users[2 * i + (i + j) % 2]
            for k, version in enumerate((1, 2)):  # granted v1 long ago, then v2 (or withdrew)
                decisions.append(ConsentDecision(
                    nursery=nursery, child=kid, scope=scope, guardian=guardian, wording=wordings[(scope, version)],
                    decision=Decision.WITHDRAWN if (i + k) % 11 == 0 else Decision.GRANTED,
                    signature="Bench Parent", decided_at=now - timedelta(days=700 - 330 * k - i % 200),
                    method=Method.ONLINE,
                ))
    ConsentDecision.objects.bulk_create(decisions, batch_size=2000)
    return nursery, [k.pk for k in kids]


def timed(label: str, repeat: int, work) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    durations = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            work()
            durations.append((time.perf_counter() - start) * 1000)
    print(f"{label:<44} {len(queries.captured_queries):>3} queries  median {statistics.median(durations):8.1f} ms"
          f"  (min {min(durations):.1f}, max {max(durations):.1f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from consent.queries import consent_register, consent_states

    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        start = time.perf_counter()
        nursery, ids = build(args.children)
        print(f"{connection.vendor}: {args.children} children, {2 * args.children} guardians, "
              f"{4 * args.children} ledger rows, built in {time.perf_counter() - start:.1f} s")
        timed(f"consent_states, all {args.children} children", args.repeat, lambda: consent_states(ids))
        timed("consent_states, 30 children (one post)", args.repeat, lambda: consent_states(ids[:30]))
        timed("consent register, whole nursery", args.repeat, lambda: consent_register(nursery))
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
