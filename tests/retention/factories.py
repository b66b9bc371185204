"""Rows of each kind the retention task removes, dated for time travel."""

from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from moderation.models import Action, Concern, ItemAction, ItemStatus, WebhookDelivery
from nursery.models import Notification
from posts.models import PostStatus, Takedown
from staff_conduct.models import Evidence, InvestigationNote, Status
from tests.factories import ChildFactory
from tests.moderation.factories import CommentFactory, ItemFactory
from tests.posts.factories import PostFactory, PostImageFactory
from tests.retention.conftest import LONDON
from tests.staff_conduct.factories import IncidentFactory, png_bytes


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


def resolved_item(world, *, resolved_at, action=Action.NO_CONCERN, comment=None, concern=None):
    fields = {"comment": comment or CommentFactory(channel__nursery=world.nursery)} if concern is None else {
        "concern": concern, "comment": None, "nursery": world.nursery, "channel": None}
    item = ItemFactory(status=ItemStatus.RESOLVED, action=action, reason="Seen", resolved_at=resolved_at,
                       resolved_by=world.dsl, **fields)
    ItemAction.objects.create(item=item, kind="resolved", actor=world.dsl, at=resolved_at)
    return item


def raised_concern(world, **fields):
    concern = Concern(nursery=world.nursery, raised_by=world.parent, reporter="parent", description="A photo",
                      raised_at=datetime(2019, 1, 1, tzinfo=LONDON), **fields)
    concern.screenshot.save("shot.png", ContentFile(png_bytes()), save=False)
    concern.save()
    return concern


def closed_incident(world, *, closed_at, **fields):
    incident = IncidentFactory(nursery=world.nursery, subject=world.practitioner, status=Status.CLOSED,
                               closed_at=closed_at, closed_by=world.leader, **fields)
    InvestigationNote.objects.create(incident=incident, author=world.leader, written_at=closed_at, text="Spoke")
    evidence = Evidence(incident=incident, original_name="shot.png", content_type="image/png", size=10,
                        sha256="0" * 64, uploaded_by=world.leader, uploaded_at=closed_at)
    evidence.file.save("x.png", ContentFile(png_bytes()), save=False)
    evidence.save()
    return incident
