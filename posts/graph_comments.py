"""Hiding or deleting a comment on Facebook or Instagram, for the moderation queue."""

from datetime import datetime

from posts.graph_api import GraphClient
from posts.graph_publishing import call_platform, delete_object, is_graph_channel, platform_label
from posts.models import Channel

HIDE, DELETE = "hide", "delete"


def act_on_comment(*, channel: Channel, comment_id: str, action: str, now: datetime | None = None) -> dict:
    """Hide or delete ``comment_id`` on the channel's platform and return the platform's answer.

    Raises ServiceError, in plain words, when the platform refuses or the channel is not connected."""
    if not is_graph_channel(channel):
        raise ValueError(f"{platform_label(channel)} comments cannot be acted on through the Graph API.")

    def act(client: GraphClient) -> dict:
        return client.hide_comment(comment_id) if action == HIDE else delete_object(client, comment_id)

    if action not in (HIDE, DELETE):
        raise ValueError(f"Unknown comment action {action!r}")
    return call_platform(channel, act, now=now)
