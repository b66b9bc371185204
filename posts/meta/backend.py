"""The ``meta_graph`` publisher backend: where Graph publishing meets the posts workflow's seam.

``publish`` runs inside the transaction that publishes, after the consent gate passed with the children's
rows locked: it records the publication and queues the delivery, which the worker sends after commit (and
which re-checks consent before anything goes out). ``take_down`` queues the deletion the same way: the
worker deletes the post with retries and only then records the removal (``posts.services.
record_platform_removal``); a post that never went out is recorded removed at once. A channel that is not
connected raises, so the workflow's transaction rolls back and the leader is told to do it by hand.
"""

from django.utils import timezone

from posts.meta.models import DeliveryState
from posts.meta.publishing import queue_delivery, take_down_delivery
from posts.models import Publication
from posts.publishing import Publisher, register


class MetaGraphPublisher(Publisher):
    name = "meta_graph"
    label = "Sent automatically to the Facebook Page or Instagram account (Meta Graph API)"
    asks_for_url = False

    def publish(self, post, channel, *, published_by, url="", now=None):
        now = now or timezone.now()
        queue_delivery(published_by, post=post, channel=channel, now=now)
        return Publication.objects.create(post=post, channel=channel, published_at=now, published_by=published_by)

    def take_down(self, publication, *, user, now=None):
        now = now or timezone.now()
        delivery = take_down_delivery(user, post=publication.post, channel=publication.channel, now=now)
        if delivery is not None and delivery.state in (DeliveryState.REMOVING, DeliveryState.REMOVAL_FAILED):
            return  # deleted in the background; the worker records the removal once the platform confirms
        publication.removed_at, publication.removed_by = now, user
        publication.save(update_fields=["removed_at", "removed_by"])


register(MetaGraphPublisher())

