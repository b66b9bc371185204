"""Where Graph publishing meets the posts workflow: recording a delivery as the post's publication."""

from datetime import datetime

from posts.graph_models import GraphDelivery
from posts.models import Post, Publication


def record_graph_publication(delivery: GraphDelivery, *, now: datetime) -> Publication:
    publication, _ = Publication.objects.update_or_create(
        post=delivery.post, channel=delivery.channel,
        defaults={
            "published_at": delivery.published_at or now, "published_by": delivery.requested_by,
            "url": delivery.permalink, "external_id": delivery.external_id,
        },
    )
    return publication


def post_url(post: Post) -> str:
    return ""
