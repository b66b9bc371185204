"""Connecting a channel to its Facebook Page or Instagram account: leadership enters a Page access token once.

The token is checked against the platform before it is kept (a wrong token or account id is caught at the
desk, not at publishing time), stored encrypted, and never shown again.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from nursery.audit import acting_as
from nursery.crypto import Secret
from nursery.errors import ServiceError
from nursery.permissions import is_leader
from posts.meta.client import GraphClient, GraphError
from posts.meta.models import ChannelConnection, ConnectionStatus
from posts.meta.publishing import is_graph_channel, platform_label, resume_after_reconnection
from posts.models import Channel


def _require_leader(user, channel: Channel) -> None:
    if not is_leader(user, channel.nursery):
        raise ServiceError("Only the leadership team connects channels.")


def connect_channel(user, *, channel: Channel, access_token: Secret | str, now: datetime | None = None
                    ) -> ChannelConnection:
    """Keep ``access_token`` for ``channel`` once the platform confirms it reaches the channel's account."""
    now = now or timezone.now()
    _require_leader(user, channel)
    token = access_token if isinstance(access_token, Secret) else Secret(access_token.strip())
    label = platform_label(channel)
    if not is_graph_channel(channel):
        raise ServiceError(f"{label} channels are published by hand; there is nothing to connect.")
    if not channel.external_id:
        raise ServiceError(f"Add the {label} account id to “{channel.name}” before connecting it.")
    if not token.reveal().strip():
        raise ServiceError("Paste the Page access token.")
    try:
        account_name = GraphClient(token, platform=label).account_name(channel.external_id)
    except GraphError as error:
        raise ServiceError(f"{label} did not accept this token for account {channel.external_id}. "
                           f"{error.explain()}") from None
    with transaction.atomic(), acting_as(user, f"Connected to {label}"):
        connection = (
            ChannelConnection.objects.select_for_update().filter(channel=channel).first()
            or ChannelConnection(channel=channel)
        )
        connection.access_token = token
        connection.status = ConnectionStatus.CONNECTED
        connection.account_name = account_name[:200]
        connection.connected_by, connection.connected_at = user, now
        connection.problem, connection.problem_at = "", None
        connection.save()
        resume_after_reconnection(channel)
    return connection


def disconnect_channel(user, *, channel: Channel) -> None:
    """Forget the token: nothing more is sent to the platform until the channel is connected again."""
    _require_leader(user, channel)
    with transaction.atomic(), acting_as(user, f"Disconnected from {platform_label(channel)}"):
        connection = ChannelConnection.objects.select_for_update().filter(channel=channel).first()
        if connection is None:
            raise ServiceError("This channel is not connected.")
        connection.delete()
