"""Rows of each kind the retention task removes, dated for time travel."""

from datetime import timedelta

from django.utils import timezone

from moderation.models import WebhookDelivery
from nursery.models import Notification
from posts.models import PostStatus, Takedown
from tests.factories import ChildFactory
from tests.posts.factories import PostFactory, PostImageFactory


def notification(recipient, *, at, nursery=None, subject="Consent withdrawn for Amara"):
    row = Notification.objects.create(nursery=nursery, recipient=recipient, subject=subject, body="Details.")
    Notification.objects.filter(pk=row.pk).update(created_at=at)  # auto_now_add: dated afterwards
    return row


def delivery(*, at, status=WebhookDelivery.Status.PROCESSED, body="{}"):
    import hashlib

    digest = hashlib.sha256(f"{body}{at.isoformat()}{status}".encode()).hexdigest()
    return WebhookDelivery.objects.create(received_at=at, body=body, body_sha256=digest, object_type="page",
                                          status=status)


def photo(nursery, *children, author=None):
    post = PostFactory(nursery=nursery, **({"author": author} if author else {}))
    return PostImageFactory(post=post, children=list(children))


def leaver(nursery, *, left_on, **fields):
    return ChildFactory(nursery=nursery, joined_on=left_on - timedelta(days=400), left_on=left_on, **fields)


def confirmed_takedown(image, child, *, confirmed_at, confirmed_by):
    post = image.post
    post.status = PostStatus.TAKEN_DOWN
    post.save()
    return Takedown.objects.create(
        nursery=post.nursery, post=post, child=child, scope="closed", reason="Consent withdrawn",
        opened_at=confirmed_at - timedelta(hours=3), deadline=confirmed_at + timedelta(hours=21),
        next_escalation_at=confirmed_at + timedelta(hours=21), confirmed_at=confirmed_at,
        confirmed_by=confirmed_by,
    )


def today(now):
    return timezone.localdate(now)
