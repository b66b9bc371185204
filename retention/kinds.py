"""Each kind of personal data the retention task removes: what starts its clock, what holds it back.

A kind answers one question, ``candidates(nursery, now, days, holds)``: the rows whose retention period
has run out by ``now`` (the leadership page asks with ``now`` 30 days ahead), legal holds already left
out. ``retention.services`` removes them, in batches, with their files and history. A kind never
deletes anything itself.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, Model, OuterRef, QuerySet
from django.utils import timezone

from moderation.models import WebhookDelivery
from nursery.models import Notification, Nursery
from posts.models import PostImage, Takedown


@dataclass(frozen=True)
class Holds:
    """The ids of what active legal holds protect, in the nursery being swept."""

    children: frozenset[int] = frozenset()
    people: frozenset[int] = frozenset()
    incidents: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    model: type[Model]
    # The RetentionSchedule field giving the period in days, or None for records of no nursery, whose
    # period is a setting.
    period_field: str | None
    starts: str  # what starts the clock, in words (the leadership page and README say it)
    file_fields: tuple[str, ...] = ()
    # Swept once per nursery, and/or once for the records that belong to no nursery.
    nursery_pass: bool = True
    deployment_pass: bool = False

    def days(self, schedule) -> int:
        if self.period_field is None:
            return settings.RETENTION_WEBHOOK_DAYS
        return getattr(schedule, self.period_field)

    def candidates(self, nursery: Nursery | None, now: datetime, days: int, holds: Holds) -> QuerySet:
        raise NotImplementedError


class NotificationKind(Kind):
    def candidates(self, nursery, now, days, holds):
        # Notifications of no nursery (rare: account messages) are swept in the deployment-wide pass.
        rows = Notification.objects.filter(created_at__lte=now - timedelta(days=days))
        rows = rows.filter(nursery=nursery) if nursery else rows.filter(nursery__isnull=True)
        return rows.exclude(recipient_id__in=holds.people) if holds.people else rows


class WebhookDeliveryKind(Kind):
    def candidates(self, nursery, now, days, holds):
        # A delivery never processed is a fault to look into, not data past its use: it stays.
        return WebhookDelivery.objects.filter(received_at__lte=now - timedelta(days=days)).exclude(
            status=WebhookDelivery.Status.RECEIVED
        )


def _photos(nursery: Nursery, holds: Holds) -> QuerySet:
    rows = PostImage.objects.filter(post__nursery=nursery)
    if holds.children:
        rows = rows.exclude(children__in=holds.children)
    if holds.people:
        rows = rows.exclude(post__author_id__in=holds.people)
    return rows


class PhotosAfterLeavingKind(Kind):
    def candidates(self, nursery, now, days, holds):
        # The child left on a date: the photo goes on the day the period ends, whatever the hour.
        last_day = timezone.localdate(now) - timedelta(days=days)
        return _photos(nursery, holds).filter(children__left_on__lte=last_day).distinct()


class PhotosAfterTakedownKind(Kind):
    def candidates(self, nursery, now, days, holds):
        # A photo goes only if the child whose consent was withdrawn is pictured in it, once the
        # removal of the post from the platform was confirmed that long ago.
        removed = Takedown.objects.filter(
            post=OuterRef("post"), child__pictured_in=OuterRef("pk"),
            confirmed_at__lte=now - timedelta(days=days),
        )
        return _photos(nursery, holds).filter(Exists(removed))


NOTIFICATIONS = NotificationKind(
    "notifications", "In-app notifications", Notification, "notifications_days", "sent", deployment_pass=True,
)
WEBHOOK_DELIVERIES = WebhookDeliveryKind(
    "webhook_deliveries", "Raw webhook deliveries from Facebook and Instagram", WebhookDelivery, None,
    "received (once processed)", nursery_pass=False, deployment_pass=True,
)
PHOTOS_AFTER_LEAVING = PhotosAfterLeavingKind(
    "photos_after_leaving", "Photos picturing a child who has left", PostImage, "photos_after_leaving_days",
    "the child left", file_fields=("image", "thumbnail"),
)
PHOTOS_AFTER_TAKEDOWN = PhotosAfterTakedownKind(
    "photos_after_takedown", "Photos taken down after consent was withdrawn", PostImage,
    "photos_after_takedown_days", "the takedown was confirmed", file_fields=("image", "thumbnail"),
)

# In the order a run sweeps them.
KINDS: tuple[Kind, ...] = (NOTIFICATIONS, WEBHOOK_DELIVERIES, PHOTOS_AFTER_LEAVING, PHOTOS_AFTER_TAKEDOWN)
BY_NAME = {kind.name: kind for kind in KINDS}
