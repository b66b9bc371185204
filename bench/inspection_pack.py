"""How long does a large nursery's inspection pack take to build? (The issue asks for under 60 s.)

Builds a throwaway test database (SQLite by default; PostgreSQL with DATABASE_URL) holding the consent
bench's nursery (N children, two guardians each, four ledger rows each) and a year of activity: 300 posts
published with 10 children pictured each, withdrawals with their takedowns, 5,000 comments reviewed, 60
conduct incidents, the staff policy acknowledged. Then builds the pack the way the worker does
(``inspection.services.build_pack``: read, PDF, CSV, ZIP, save) and prints the time, queries and size;
then times the leadership dashboard's 12 monthly trends on the same data.

    .venv/bin/python bench/inspection_pack.py [--children 2000]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nursery.settings")


def build_year(nursery, child_ids: list[int]) -> None:
    from datetime import date, timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from consent.models import Scope
    from moderation.models import Comment, ModerationItem, Priority, RuleHit
    from moderation.models import ItemStatus as ModerationStatus
    from nursery.models import Membership, Role
    from posts.models import Channel, Platform, Post, PostImage, PostStatus, Publication, Takedown
    from staff_conduct.models import Acknowledgement, Incident, PolicyDocument, PolicyKind, PolicyVersion, Status

    now = timezone.now()
    User = get_user_model()
    staff = User.objects.bulk_create([User(username=f"bench-staff-{i}", first_name="Staff", last_name=str(i))
                                      for i in range(40)])
    Membership.objects.bulk_create([
        Membership(user=u, nursery=nursery, role=Role.LEADERSHIP if i < 3 else Role.STAFF) for i, u in enumerate(staff)
    ])
    leader = staff[0]
    channels = [
        Channel.objects.create(nursery=nursery, name=f"Channel {s}", platform=Platform.FACEBOOK, audience=s)
        for s in Scope.values
    ]
    posts = Post.objects.bulk_create([
        Post(nursery=nursery, author=staff[3 + i % 30], caption=f"Bench post {i}", status=PostStatus.PUBLISHED,
             approved_by=leader, published_at=now - timedelta(days=360 - i))
        for i in range(300)
    ])
    images = PostImage.objects.bulk_create([
        PostImage(post=p, image="posts/bench.jpg", thumbnail="posts/bench-thumb.jpg", alt_text="Bench", width=64,
                  height=48)
        for p in posts
    ])
    PostImage.children.through.objects.bulk_create([
        PostImage.children.through(postimage_id=img.pk, child_id=child_ids[(i * 37 + k * 101) % len(child_ids)])
        for i, img in enumerate(images) for k in range(10)
    ])
    Publication.objects.bulk_create([
        Publication(post=p, channel=channels[i % 2], published_at=p.published_at, published_by=leader)
        for i, p in enumerate(posts)
    ])
    Takedown.objects.bulk_create([
        Takedown(nursery=nursery, post=posts[i], child_id=child_ids[(i * 37) % len(child_ids)], scope=Scope.PUBLIC,
                 reason="Consent withdrawn", opened_at=now - timedelta(days=100 - i), next_escalation_at=now,
                 deadline=now - timedelta(days=99 - i), confirmed_at=now - timedelta(days=100 - i, hours=-5),
                 confirmed_by=leader)
        for i in range(1, 60, 2)
    ])
    comments = Comment.objects.bulk_create([
        Comment(nursery=nursery, channel=channels[i % 2], platform=Platform.FACEBOOK, external_id=f"c{i}",
                author_name=f"Visitor {i}", text="Lovely!", received_at=now - timedelta(minutes=100 * i))
        for i in range(5000)
    ], batch_size=1000)
    items = ModerationItem.objects.bulk_create([
        ModerationItem(nursery=nursery, comment=c,
                       priority=[Priority.ACKNOWLEDGE, Priority.LOW, Priority.MEDIUM, Priority.HIGH][i % 4],
                       status=ModerationStatus.RESOLVED, opened_at=c.received_at, action="no_concern",
                       resolved_at=c.received_at + timedelta(minutes=5 + i % 300), resolved_by=staff[1])
        for i, c in enumerate(comments)
    ], batch_size=1000)
    RuleHit.objects.bulk_create([
        RuleHit(item=item, rule_name="Bench", category="foul_language", severity=2, start=0, end=3, matched="x")
        for item in items[1::4]
    ], batch_size=1000)
    Incident.objects.bulk_create([
        Incident(nursery=nursery, subject=staff[3 + i % 30], reported_at=now - timedelta(days=5 * i),
                 occurred_on=date.today() - timedelta(days=5 * i), description="Bench", status=list(Status)[i % 5])
        for i in range(60)
    ])
    document = PolicyDocument.objects.create(nursery=nursery, kind=PolicyKind.STAFF, title="Staff policy")
    version = PolicyVersion.objects.create(document=document, version=1, text="Be careful online.\n" * 40,
                                           effective_on=date.today() - timedelta(days=300), published_at=now)
    Acknowledgement.objects.bulk_create([
        Acknowledgement(nursery=nursery, version=version, user=u, signature="Staff", acknowledged_at=now)
        for u in staff[:35]
    ])
    return leader


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=2000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench.consent_states import build
    from inspection import services
    from inspection.audit import Period
    from inspection.models import InspectionPack

    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        start = time.perf_counter()
        nursery, ids = build(args.children)
        leader = build_year(nursery, ids)
        print(f"{connection.vendor}: {args.children} children, {4 * args.children} ledger rows, 300 posts "
              f"(3,000 children pictured), 5,000 comments; built in {time.perf_counter() - start:.1f} s")
        period = Period.last_months(12)
        pack = InspectionPack.objects.create(nursery=nursery, requested_by=leader, requested_at=timezone.now(),
                                             period_start=period.start, period_end=period.end)
        with CaptureQueriesContext(connection) as queries:
            start, cpu = time.perf_counter(), time.process_time()
            assert services.build_pack(pack_id=pack.pk)
            took, cpu = time.perf_counter() - start, time.process_time() - cpu
        pack.refresh_from_db()
        print(f"inspection pack: {took:.1f} s ({cpu:.1f} s of this process's CPU), "
              f"{len(queries.captured_queries)} queries, ZIP {pack.size / 1024:.0f} KiB")
        pack.file.delete(save=False)

        from inspection.trends import trends

        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            trends(nursery)
            took = time.perf_counter() - start
        print(f"dashboard trends, 12 months: {took:.2f} s, {len(queries.captured_queries)} queries")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
