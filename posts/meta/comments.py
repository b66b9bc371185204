"""Hiding or deleting a comment on Facebook or Instagram, for the moderation queue."""

from datetime import datetime

from posts.meta.client import ErrorKind, GraphError
from posts.meta.publishing import client_for, delete_object, is_graph_channel, mark_reconnect_needed, platform_label
from posts.models import Channel

HIDE, DELETE = "hide", "delete"


def act_on_comment(*, channel: Channel, comment_id: str, action: str, now: datetime | None = None) -> dict:
    """Hide or delete ``comment_id`` on the channel's platform and return the platform's answer.

    Raises ServiceError when the channel is not connected, and GraphError when the platform refuses (its
    ``retryable`` says whether trying later may help, ``explain()`` says why in plain words); a refused
    token also marks the channel "reconnect needed"."""
    if not is_graph_channel(channel):
        raise ValueError(f"{platform_label(channel)} comments cannot be acted on through the Graph API.")
    if action not in (HIDE, DELETE):
        raise ValueError(f"Unknown comment action {action!r}")
    client = client_for(channel)
    try:
        return client.hide_comment(comment_id) if action == HIDE else delete_object(client, comment_id)
    except GraphError as error:
        if error.kind is ErrorKind.TOKEN:
            mark_reconnect_needed(channel.connection, why=error.explain(), now=now)
        raise
