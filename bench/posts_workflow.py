"""How long do the approval queue and the publishing gate take with a busy nursery's worth of posts?

Builds a throwaway test database (SQLite by default; PostgreSQL with DATABASE_URL) with N posts waiting for
approval, each with three photos tagging four children of 300, everyone with consent, then times the
approval queue's page of posts with consent at a glance, the consent gate of one post, and a whole
publication (lock, gate, publish), printing queries and milliseconds.

    .venv/bin/python bench/posts_workflow.py [--posts 500] [--repeat 5]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nursery.settings")

from bench.consent_states import timed  # noqa: E402


def build(posts: int):
    from datetime import date, timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from consent.models import ConsentDecision, ConsentWording, Decision, Method, Scope
    from nursery.models import Child, Guardianship, Membership, Nursery, Role
    from posts.models import Channel, Occasion, Post, PostImage, PostStatus

    now = timezone.now()
    User = get_user_model()
    nursery = Nursery.objects.create(name="Bench Nursery")
    author, leader = User.objects.create(username="bench-author"), User.objects.create(username="bench-leader")
    Membership.objects.create(user=author, nursery=nursery, role=Role.STAFF)
    Membership.objects.create(user=leader, nursery=nursery, role=Role.LEADERSHIP)
    kids = Child.objects.bulk_create([
        Child(nursery=nursery, first_name=f"C{i}", last_name="Bench", date_of_birth=date(2023, 1, 1),
              joined_on=date(2024, 1, 1)) for i in range(300)
    ])
    guardians = User.objects.bulk_create([User(username=f"bench-guardian-{i}") for i in range(300)])
    Guardianship.objects.bulk_create([Guardianship(user=g, child=k, relationship="parent")
                                      for g, k in zip(guardians, kids, strict=True)])
    wordings = {s: ConsentWording.objects.create(nursery=nursery, scope=s, version=1, text="x",
                                                 published_at=now - timedelta(days=90)) for s in Scope.values}
    ConsentDecision.objects.bulk_create([
        ConsentDecision(nursery=nursery, child=k, scope=s, guardian=g, wording=wordings[s], decision=Decision.GRANTED,
                        signature="Bench Parent", decided_at=now - timedelta(days=30), method=Method.ONLINE)
        for g, k in zip(guardians, kids, strict=True) for s in Scope.values
    ], batch_size=2000)
    channels = [Channel.objects.create(nursery=nursery, name=n, platform="facebook", audience=s)
                for n, s in (("Families", Scope.CLOSED), ("Public", Scope.PUBLIC))]
    occasion = Occasion.objects.create(nursery=nursery, name="Concert", date=date(2026, 12, 16))
    made = Post.objects.bulk_create([
        Post(nursery=nursery, author=author, edited_by=author, caption=f"Post {i}", occasion=occasion,
             status=PostStatus.SUBMITTED, submitted_at=now - timedelta(minutes=i)) for i in range(posts)
    ])
    links = Post.channels.through
    links.objects.bulk_create([links(post=p, channel=c) for p in made for c in channels])
    images = PostImage.objects.bulk_create([
        PostImage(post=p, image=f"bench/{p.pk}-{j}.jpg", thumbnail=f"bench/{p.pk}-{j}-t.jpg", alt_text="x",
                  width=2048, height=1536, position=j) for p in made for j in range(3)
    ])
    PostImage.children.through.objects.bulk_create([
        PostImage.children.through(postimage=img, child=kids[(img.pk * 7 + k) % 300])
        for img in images for k in range(4) if not (img.position and k > 1)
    ], ignore_conflicts=True)
    return nursery, made, leader


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction

    from posts import queries, services
    from posts.gate import consent_problems
    from posts.models import PostStatus

    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        start = time.perf_counter()
        nursery, posts, leader = build(args.posts)
        print(f"{connection.vendor}: {args.posts} posts waiting, {3 * args.posts} photos, built in "
              f"{time.perf_counter() - start:.1f} s")

        def queue_page():
            page = list(queries.approval_queue(nursery)[:25])
            queries.consent_at_a_glance(page)

        def publish_one():
            with transaction.atomic():
                post = posts[0]
                post.status, post.approved_version = PostStatus.APPROVED, post.version
                post.save()
                services.publish_post(leader, post=post)
                transaction.set_rollback(True)

        timed("approval queue: 25 posts with consent glance", args.repeat, queue_page)
        timed("approval queue: all posts with consent glance", args.repeat,
              lambda: queries.consent_at_a_glance(list(queries.approval_queue(nursery))))
        timed("consent gate of one post (lock=False)", args.repeat, lambda: consent_problems(posts[0]))
        timed("publish one post (lock, gate, 2 channels)", args.repeat, publish_one)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
