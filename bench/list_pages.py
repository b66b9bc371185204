"""Every list page at 10,000 rows against a bare logged-in page and the admin changelist of its rows.

Builds a throwaway test database (use PostgreSQL: ``DATABASE_URL=postgres://…``) holding one nursery with
N children on roll (two guardians each, four ledger rows each), N parents who must acknowledge the parents'
rules (half have), N moderation items (half open, half resolved), N posts waiting for approval (three
photos, children tagged) and N conduct incidents. Runs with ``DJANGO_DEBUG`` off (static files collected to
a temporary folder first) through Django's test client as a superuser who leads the nursery and is its
safeguarding lead. Requests are interleaved round by round (bare page, the page, its admin changelist) so
that a busy machine slows all three alike, and the script prints each page's median time, queries and
size beside the bare page's, as ratios:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mydb .venv/bin/python bench/list_pages.py [--rows 10000]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ["DJANGO_DEBUG"] = "false"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-for-production-use-0123456789")
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "false"
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "neArfQKKHm_9mngfYNGQiGHH2BsUmpgloUmRdW15wdY=")
os.environ["STATIC_ROOT"] = tempfile.mkdtemp(prefix="bench-static-")

# (label, page, admin changelist of the same rows)
PAGES = [
    ("consent register", "/consent/register/", "/admin/nursery/child/"),
    ("acknowledgement status", "/conduct/acknowledgements/", "/admin/staff_conduct/acknowledgement/"),
    ("moderation queue", "/moderation/", "/admin/moderation/moderationitem/"),
    ("approvals", "/posts/approvals/", "/admin/posts/post/"),
    ("incidents", "/conduct/incidents/", "/admin/staff_conduct/incident/"),
]
# Fragments a page loads after its rows (htmx): measured once each, not part of the page's time.
FRAGMENTS = [("consent by room (after the register's rows)", "/consent/register/counts/")]
EXPORTS = [("consent register CSV", "/consent/register.csv"),
           ("acknowledgements CSV", "/conduct/acknowledgements.csv")]


def build(rows: int):
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from bench.consent_states import build as build_consent
    from moderation.models import Comment, ItemAction, ItemStatus, ModerationItem, Priority, RuleHit
    from nursery.models import Guardianship, Membership, Role
    from posts.models import Channel, Occasion, Post, PostImage, PostStatus
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
    nursery, child_ids = build_consent(rows)
    leader = User.objects.create_user("bench-leader", password="x", is_staff=True, is_superuser=True,
                                      first_name="Lee", last_name="Leader")
    staff = User.objects.bulk_create([User(username=f"bench-staff-{i}", first_name="S", last_name=str(i))
                                      for i in range(40)])
    Membership.objects.bulk_create(
        [Membership(user=leader, nursery=nursery, role=r) for r in (Role.LEADERSHIP, Role.SAFEGUARDING_LEAD)]
        + [Membership(user=u, nursery=nursery, role=Role.STAFF) for u in staff]
    )
    nursery.manager = leader
    nursery.save()

    # Parents: the first guardian of each of the first ``rows`` children... one parent membership each.
    parents = list(User.objects.filter(pk__in=Guardianship.objects.filter(child__nursery=nursery)
                                       .values("user_id")).order_by("pk")[:rows])
    Membership.objects.bulk_create([Membership(user=u, nursery=nursery, role=Role.PARENT) for u in parents],
                                   batch_size=5000)
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
                        version=versions[PolicyKind.PARENTS]) for u in parents[::2]
    ], batch_size=5000)

    # Moderation: half open (flagged and clean), half resolved.
    channel = Channel.objects.create(nursery=nursery, name="Families", platform="facebook", audience="closed",
                                     external_id="1000")
    comments = Comment.objects.bulk_create([
        Comment(nursery=nursery, channel=channel, platform="facebook", external_id=f"c{n}",
                text=f"Lovely photo {n}", received_at=now - timedelta(minutes=n)) for n in range(rows)
    ], batch_size=5000)
    items = ModerationItem.objects.bulk_create([
        ModerationItem(
            nursery=nursery, comment=c, channel=channel, priority=Priority.HIGH if n % 3 == 0 else Priority.ACKNOWLEDGE,
            opened_at=now - timedelta(minutes=n),
            **({"status": ItemStatus.RESOLVED, "action": "no_concern", "resolved_at": now - timedelta(minutes=n),
                "resolved_by": leader, "reason": "x"} if n % 2 else {}),
        ) for n, c in enumerate(comments)
    ], batch_size=5000)
    RuleHit.objects.bulk_create([
        RuleHit(item=i, rule_name="Children's full names", category="child_named", severity=3, start=0, end=6,
                matched="Lovely") for i in items if i.priority
    ], batch_size=5000)
    ItemAction.objects.bulk_create([ItemAction(item=i, kind="opened", at=now) for i in items], batch_size=5000)

    # Posts waiting for approval, three photos each with children tagged.
    occasion = Occasion.objects.create(nursery=nursery, name="Concert", date=(now + timedelta(days=14)).date())
    posts = Post.objects.bulk_create([
        Post(nursery=nursery, author=staff[i % 40], edited_by=staff[i % 40], caption=f"Post {i}", occasion=occasion,
             status=PostStatus.SUBMITTED, submitted_at=now - timedelta(minutes=i)) for i in range(rows)
    ], batch_size=5000)
    Post.channels.through.objects.bulk_create([Post.channels.through(post=p, channel=channel) for p in posts],
                                              batch_size=5000)
    images = PostImage.objects.bulk_create([
        PostImage(post=p, image=f"bench/{p.pk}-{j}.jpg", thumbnail=f"bench/{p.pk}-{j}-t.jpg", alt_text="x",
                  width=2048, height=1536, position=j) for p in posts for j in range(3)
    ], batch_size=5000)
    PostImage.children.through.objects.bulk_create([
        PostImage.children.through(postimage=img, child_id=child_ids[(img.pk * 7 + k) % len(child_ids)])
        for img in images for k in range(2)
    ], batch_size=5000, ignore_conflicts=True)

    # Conduct incidents.
    made = Incident.objects.bulk_create([
        Incident(nursery=nursery, subject=staff[i % 40], source=Source.NAMED, reported_by=staff[(i + 1) % 40],
                 reported_at=now - timedelta(days=i % 90), occurred_on=(now - timedelta(days=i % 90 + 1)).date(),
                 description="x", status=Status.values[i % len(Status.values)],
                 investigator=leader if i % 5 else None,
                 investigation_due_on=(now - timedelta(days=i % 20 - 10)).date() if i % 5 else None)
        for i in range(rows)
    ], batch_size=5000)
    Incident.clauses.through.objects.bulk_create([
        Incident.clauses.through(incident_id=inc.pk, policyclause_id=clauses[i % 9].pk) for i, inc in enumerate(made)
    ], batch_size=5000)
    return leader


def signed_in_with_second_factor(client, user) -> None:
    """Leadership must pass two-factor sign-in with DEBUG off: enrol a device and mark the session verified."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()


def measure(client, url: str) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.get(url, secure=True)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        took = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return took, len(queries.captured_queries), len(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    import django

    django.setup()
    import logging

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    logging.getLogger("axes").setLevel(logging.WARNING)
    call_command("collectstatic", "--noinput", verbosity=0)
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        start = time.perf_counter()
        leader = build(args.rows)
        if connection.vendor == "postgresql":
            connection.cursor().execute("ANALYZE")
        print("load average (1, 5, 15 min) before the requests: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        print(f"{connection.vendor}, DEBUG off: {args.rows} rows per list, built in "
              f"{time.perf_counter() - start:.0f} s; median of {args.repeat} interleaved requests")
        client = Client()
        client.force_login(leader)
        signed_in_with_second_factor(client, leader)
        urls = ["/bench/bare/"] + [u for _, page, admin in PAGES for u in (page, admin)]
        for url in urls:  # warm up: templates compiled, caches filled
            measure(client, url)
        times: dict[str, list[float]] = {url: [] for url in urls}
        facts: dict[str, tuple[int, int]] = {}
        for _ in range(args.repeat):
            for url in urls:
                took, queries, size = measure(client, url)
                times[url].append(took)
                facts[url] = (queries, size)
        bare = statistics.median(times["/bench/bare/"])
        print(f"{'bare logged-in page':<24} {bare:7.1f} ms  {facts['/bench/bare/'][0]:>3} queries "
              f"{facts['/bench/bare/'][1] / 1024:7.1f} KB")
        print(f"{'page':<24} {'time':>10}  {'queries':>11} {'size':>10}  {'× bare':>7}  {'admin':>9}  "
              f"{'admin ÷ page':>12}")
        for label, page, admin in PAGES:
            t, a = statistics.median(times[page]), statistics.median(times[admin])
            print(f"{label:<24} {t:7.1f} ms  {facts[page][0]:>3} queries {facts[page][1] / 1024:7.1f} KB  "
                  f"{t / bare:6.1f}×  {a:6.1f} ms  {a / t:11.1f}×")
        for label, url in FRAGMENTS:
            took, queries, size = measure(client, url)
            print(f"{label:<24} {took:7.0f} ms  {queries:>3} queries {size / 1024:7.1f} KB  (every child's consent)")
        for label, url in EXPORTS:
            took, queries, size = measure(client, url)
            print(f"{label:<24} {took:7.0f} ms  {queries:>3} queries {size / 1024:7.0f} KB  (every row, streamed)")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
