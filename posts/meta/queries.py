"""Read-side queries for the Facebook and Instagram pages."""

from django.db.models import QuerySet

from nursery.models import Nursery
from posts.meta.models import DeliveryState, GraphDelivery
from posts.meta.publishing import GRAPH_PLATFORMS
from posts.models import Channel

NEEDS_ATTENTION = [DeliveryState.FAILED, DeliveryState.RECONNECT, DeliveryState.RETRYING, DeliveryState.QUEUED,
                   DeliveryState.SENDING]


def graph_channels(nursery: Nursery) -> QuerySet[Channel]:
    return (
        Channel.objects.filter(nursery=nursery, platform__in=GRAPH_PLATFORMS)
        .select_related("connection__connected_by").order_by("name")
    )


def deliveries_in_progress(nursery: Nursery) -> QuerySet[GraphDelivery]:
    return (
        GraphDelivery.objects.filter(post__nursery=nursery, state__in=NEEDS_ATTENTION)
        .select_related("post", "channel").order_by("-requested_at", "-pk")
    )


def recent_deliveries(nursery: Nursery, limit: int = 20) -> QuerySet[GraphDelivery]:
    return (
        GraphDelivery.objects.filter(post__nursery=nursery).exclude(state__in=NEEDS_ATTENTION)
        .select_related("post", "channel").order_by("-requested_at", "-pk")[:limit]
    )
