"""How do the conduct pages and tasks hold up for a large nursery group?

Builds a throwaway test database (SQLite by default; PostgreSQL with DATABASE_URL) with one nursery of
S staff and P parents, a staff policy and parents' rules (half acknowledged), and I incidents citing
clauses, then times the acknowledgement status page's query, the incident list page (all, and filtered by
clause), a reminder run (first, and again: nothing to send) and an escalation run, printing queries and ms.
Notification emails run in-process here (as in tests), so first runs include sending every email.

    .venv/bin/python bench/staff_conduct.py [--staff 200] [--parents 2000] [--incidents 5000] [--repeat 5]
"""

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nursery.settings")


def build(staff: int, parents: int, incidents: int):
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from nursery.models import Membership, Nursery, Role
    from staff_conduct.models import (
        Acknowledgement,
        Incident,
        PolicyClause,
        PolicyDocument,
        PolicyKind,
        PolicyVersion,
        Source,
        Status,
    )

    now = timezone.now()
    User = get_user_model()
    nursery = Nursery.objects.create(name="Bench Nursery")
    people = User.objects.bulk_create([User(username=f"bench-{i}", first_name="B", last_name=str(i))
                                       for i in range(staff + parents)])
    roles = [Role.LEADERSHIP if i < 5 else Role.STAFF for i in range(staff)] + [Role.PARENT] * parents
    Membership.objects.bulk_create(
        [Membership(user=u, nursery=nursery, role=r) for u, r in zip(people, roles, strict=True)])
    nursery.manager = people[0]
    nursery.save()
    versions = {}
    for kind in PolicyKind.values:
        document = PolicyDocument.objects.create(nursery=nursery, kind=kind, title=kind)
        versions[kind] = PolicyVersion.objects.create(document=document, version=1, text="x",
                                                      effective_on=(now - timedelta(days=60)).date(),
                                                      published_at=now - timedelta(days=60))
    clauses = PolicyClause.objects.bulk_create(
        PolicyClause(version=versions[PolicyKind.STAFF], number=n, text=f"Clause {n}") for n in range(1, 10))
    Acknowledgement.objects.bulk_create([
        Acknowledgement(nursery=nursery, user=u, signature="Bench", acknowledged_at=now,
                        version=versions[PolicyKind.STAFF if r != Role.PARENT else PolicyKind.PARENTS])
        for i, (u, r) in enumerate(zip(people, roles, strict=True)) if i % 2
    ], batch_size=2000)
    made = Incident.objects.bulk_create([
        Incident(nursery=nursery, subject=people[5 + i % (staff - 5)], source=Source.NAMED, reported_by=people[5],
                 reported_at=now - timedelta(days=i % 90), occurred_on=(now - timedelta(days=i % 90 + 1)).date(),
                 description="x", status=Status.values[i % len(Status.values)],
                 investigator=people[i % 4] if i % 5 else None,
                 investigation_due_on=(now - timedelta(days=i % 20 - 10)).date() if i % 5 else None)
        for i in range(incidents)
    ], batch_size=2000)
    through = Incident.clauses.through
    through.objects.bulk_create([through(incident_id=inc.pk, policyclause_id=clauses[i % 9].pk)
                                 for i, inc in enumerate(made)], batch_size=2000)
    return nursery, people[0], clauses[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=200)
    parser.add_argument("--parents", type=int, default=2000)
    parser.add_argument("--incidents", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from consent_states import timed
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from nursery.celery import app
    from staff_conduct import queries, services

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    app.conf.task_always_eager = True
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        start = time.perf_counter()
        nursery, leader, clause = build(args.staff, args.parents, args.incidents)
        print(f"{connection.vendor}: {args.staff} staff, {args.parents} parents, {args.incidents} incidents, "
              f"built in {time.perf_counter() - start:.1f} s")
        client = Client()
        client.force_login(leader)
        timed("acknowledgement status (query)", args.repeat, lambda: queries.acknowledgement_status(nursery))
        timed("acknowledgement status page", args.repeat, lambda: client.get("/conduct/acknowledgements/"))
        timed("incident list page", args.repeat, lambda: client.get("/conduct/incidents/"))
        timed("incident list page, by clause", args.repeat,
              lambda: client.get(f"/conduct/incidents/?clause={clause.pk}&status=open"))
        now = timezone.now()
        timed("reminders, first run", 1, lambda: services.chase_acknowledgements(now=now))
        connection.queries_log.clear()
        timed("reminders, run again (nothing due)", args.repeat, lambda: services.chase_acknowledgements(now=now))
        connection.queries_log.clear()
        timed("escalation run", 1, lambda: services.escalate_incidents(now=now))
        connection.queries_log.clear()
        timed("escalation run again (nothing due)", args.repeat, lambda: services.escalate_incidents(now=now))
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
