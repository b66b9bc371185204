"""How long does the daily consent sweep take for a large nursery group, and how many queries?

Builds a throwaway test database (SQLite by default; PostgreSQL with DATABASE_URL) holding N children who
joined last week, none asked yet, two guardians each with parental responsibility: the worst day, when every
guardian is asked about both scopes. It prints:

- a bare baseline: the rows the sweep writes (consent requests, their history, notifications, one outbox row per
  200 emails) written with Django's ``bulk_create`` and nothing decided, rolled back;
- the sweep itself (``send_consent_requests``): seconds and queries;
- a rerun the same day, which must send nothing;
- the dispatcher handing every outbox row to the broker (an in-memory broker here), as after a broker outage;
- with ``--send``, the workers' side run in this process: every outbox row run, every email sent (locmem).

    .venv/bin/python bench/consent_sweep.py [--children 10000] [--send]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nursery.settings")


def build(children: int):
    from datetime import date, timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from consent.models import ConsentWording, Scope
    from nursery.models import Child, Guardianship, Nursery, Room

    User = get_user_model()
    now = timezone.now()
    nursery = Nursery.objects.create(name="Bench Nursery")
    rooms = [Room.objects.create(nursery=nursery, name=f"Room {i}") for i in range(6)]
    for scope in Scope.values:
        ConsentWording.objects.create(nursery=nursery, scope=scope, version=1, published_at=now - timedelta(days=30),
                                      text="I allow photos. You can withdraw at any time.")
    kids = Child.objects.bulk_create([
        Child(nursery=nursery, room=rooms[i % 6], first_name=f"C{i}", last_name="Bench",
              date_of_birth=date(2023, 1, 1), joined_on=timezone.localdate(now) - timedelta(days=7))
        for i in range(children)
    ], batch_size=2000)
    users = User.objects.bulk_create([
        User(username=f"bench-guardian-{i}", email=f"guardian-{i}@example.org") for i in range(2 * children)
    ], batch_size=2000)
    Guardianship.objects.bulk_create([
        Guardianship(user=users[2 * i + j], child=kid, relationship="parent")
        for i, kid in enumerate(kids) for j in (0, 1)
    ], batch_size=2000)
    return nursery, kids, users


def baseline(nursery, kids, users) -> float:
    """The writes alone, nothing decided: what no sweep can beat."""
    from django.db import transaction
    from django.utils import timezone

    from consent.models import ConsentRequest, RequestKind, Scope
    from nursery.models import Notification, OutboxMessage

    now = timezone.now()
    start = time.perf_counter()
    with transaction.atomic():
        requests = ConsentRequest.objects.bulk_create([
            ConsentRequest(nursery=nursery, child=kid, scope=scope, kind=RequestKind.FIRST_ASK,
                           recipient=users[2 * i + j], cycle="bench", round=1, sent_at=now)
            for i, kid in enumerate(kids) for j in (0, 1) for scope in Scope.values
        ], batch_size=1000)
        ConsentRequest.history.bulk_history_create(requests, batch_size=1000)
        notes = Notification.objects.bulk_create([
            Notification(nursery=nursery, recipient=user, subject="Please tell us about photos", body="x" * 400)
            for user in users
        ], batch_size=1000)
        ids = [n.pk for n in notes]
        OutboxMessage.objects.bulk_create([
            OutboxMessage(task_name="nursery.tasks.send_notification_emails", args=[ids[i:i + 200]], created_at=now,
                          due_at=now)
            for i in range(0, len(ids), 200)
        ], batch_size=1000)
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=10000)
    parser.add_argument("--send", action="store_true", help="also run every outbox row here (locmem email)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from consent.services import send_consent_requests
    from nursery import outbox
    from nursery.celery import app
    from nursery.models import OutboxMessage

    app.conf.broker_url = "memory://"  # measure our side only; the fast path and dispatcher publish here
    app.conf.task_always_eager = False
    # A database of its own, so the benchmark never collides with a test run's test_<name> database.
    connection.settings_dict["TEST"]["NAME"] = f"bench_{connection.settings_dict['NAME']}"
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        start = time.perf_counter()
        nursery, kids, users = build(args.children)
        print(f"{connection.vendor}: {len(kids)} children, {len(users)} guardians, built in "
              f"{time.perf_counter() - start:.1f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        cpu = time.process_time()
        wall = baseline(nursery, kids, users)
        print(f"{'bare baseline (the same rows, bulk INSERTs only)':<52} {wall:7.2f} s  "
              f"(this process's CPU {time.process_time() - cpu:.2f} s)")
        for label in ("consent sweep", "consent sweep again the same day"):
            with CaptureQueriesContext(connection) as queries:
                start, cpu = time.perf_counter(), time.process_time()
                sent = send_consent_requests()
                elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            print(f"{label:<52} {elapsed:7.2f} s  (this process's CPU {cpu:.2f} s)  "
                  f"{len(queries.captured_queries):>4} queries  {sent} emails")
        # As after a broker outage: nothing was handed over, so the dispatcher hands over every row.
        OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).update(sent_at=None)
        waiting = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).count()
        start = time.perf_counter()
        handed = 0
        while handed < waiting:
            step = outbox.dispatch(time_budget=600)
            if not step:
                break
            handed += step
        print(f"{'dispatcher: hand every email to the broker':<52} {time.perf_counter() - start:7.2f} s  "
              f"{handed} of {waiting} messages")
        if args.send:
            from django.core import mail
            from django.test.utils import override_settings

            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                mail.outbox = []
                start, cpu = time.perf_counter(), time.process_time()
                for pk in OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).values_list("pk", flat=True):
                    outbox.run(pk)
                elapsed = time.perf_counter() - start
                print(f"{'workers: run every row, send every email (locmem)':<52} {elapsed:7.2f} s  "
                      f"(this process's CPU {time.process_time() - cpu:.2f} s)  {len(mail.outbox)} emails")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
