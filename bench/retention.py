"""How long does the nightly retention run take, and what does the leadership page cost?

Builds a throwaway test database (SQLite by default; PostgreSQL with DATABASE_URL) with one nursery where
C children left seven years ago (two consent decisions each, one photo each with its image and thumbnail
files in a temporary MEDIA_ROOT), N notifications and D webhook deliveries past their period, then times
the leadership page's counts, one retention run that removes everything due (batches of --batch), and a
second run that finds nothing.

    .venv/bin/python bench/retention.py [--children 1000] [--notifications 20000] [--deliveries 5000]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nursery.settings")


def build(children: int, notifications: int, deliveries: int):
    import hashlib
    from datetime import date, timedelta

    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from consent.models import ConsentDecision, ConsentWording
    from moderation.models import WebhookDelivery
    from nursery.models import Child, Guardianship, Membership, Notification, Nursery, Role
    from posts.models import Post, PostImage

    now = timezone.now()
    User = get_user_model()
    nursery = Nursery.objects.create(name="Bench Nursery")
    leader = User.objects.create(username="bench-leader")
    Membership.objects.create(user=leader, nursery=nursery, role=Role.LEADERSHIP)
    left_on = date(now.year - 7, 7, 20)
    kids = Child.objects.bulk_create([
        Child(nursery=nursery, first_name="C", last_name=str(i), date_of_birth=date(now.year - 10, 1, 1),
              joined_on=left_on - timedelta(days=700), left_on=left_on) for i in range(children)])
    parents = User.objects.bulk_create([User(username=f"bench-parent-{i}") for i in range(children)])
    Guardianship.objects.bulk_create([Guardianship(user=p, child=c, relationship="mother")
                                      for p, c in zip(parents, kids, strict=True)])
    wording = ConsentWording.objects.create(nursery=nursery, scope="closed", version=1, text="I agree.",
                                            published_at=now - timedelta(days=4000))
    ConsentDecision.objects.bulk_create([
        ConsentDecision(nursery=nursery, child=c, scope="closed", decision=d, guardian=p, signature="Bench",
                        wording=wording, decided_at=now - timedelta(days=3000), method="online")
        for p, c in zip(parents, kids, strict=True) for d in ("granted", "withdrawn")])
    post = Post.objects.create(nursery=nursery, author=leader, caption="Sports day")
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "seagreen").save(buffer, "JPEG")
    jpeg = buffer.getvalue()
    for child in kids:
        image = PostImage(post=post, alt_text="Running", width=10, height=10)
        image.image.save("p.jpg", ContentFile(jpeg), save=False)
        image.thumbnail.save("t.jpg", ContentFile(jpeg), save=False)
        image.width, image.height = 64, 48
        image.save()
        image.children.add(child)
    made = Notification.objects.bulk_create([
        Notification(nursery=nursery, recipient=leader, subject="Old", body="x") for _ in range(notifications)])
    Notification.objects.filter(pk__in=[n.pk for n in made]).update(created_at=now - timedelta(days=200))
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(received_at=now - timedelta(days=60), body="{}", status="processed", object_type="page",
                        body_sha256=hashlib.sha256(str(i).encode()).hexdigest()) for i in range(deliveries)])
    return nursery, leader


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=1000)
    parser.add_argument("--notifications", type=int, default=20000)
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from retention import queries, services

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-retention-")
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        start = time.perf_counter()
        nursery, _ = build(args.children, args.notifications, args.deliveries)
        files = sum(len(f) for _, _, f in os.walk(settings.MEDIA_ROOT))
        print(f"{connection.vendor}: {args.children} leavers ({2 * args.children} consent decisions, "
              f"{args.children} photos, {files} files), {args.notifications} notifications, "
              f"{args.deliveries} deliveries; built in {time.perf_counter() - start:.1f} s")
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as page:
            start = time.perf_counter()
            rows = queries.upcoming(nursery, timezone.now())
        print(f"leadership page counts: {len(page)} queries, {1000 * (time.perf_counter() - start):.0f} ms "
              f"({sum(r.due_now for r in rows)} rows due)")
        for label in ("retention run", "run again (nothing due)"):
            start = time.perf_counter()
            run = services.run_retention(batch_size=args.batch, time_budget=3600)
            elapsed = time.perf_counter() - start
            print(f"{label}: {run.total} rows removed in {elapsed:.1f} s ({run.total / elapsed:.0f} rows/s), "
                  f"status {run.status}")
            for count in run.counts.order_by("kind"):
                print(f"    {count.kind:<24} {count.count:>7} rows {count.files:>6} files")
        left = sum(len(f) for _, _, f in os.walk(settings.MEDIA_ROOT))
        print(f"files left in storage: {left}")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
