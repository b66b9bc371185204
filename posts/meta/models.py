"""Publishing through Meta's Graph API: a channel's connection, and each post's delivery to the platform.

Imported by ``posts.models`` so the models belong to the posts app.
"""

from django.conf import settings
from django.db import models

from nursery.audit import history
from nursery.crypto import EncryptedTextField


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    RECONNECT = "reconnect", "Reconnect needed"


class ChannelConnection(models.Model):
    """How we reach a Facebook Page or an Instagram account: its page access token, encrypted.

    The account's id is ``Channel.external_id``. The token is entered once by leadership and never shown
    again; it stays out of the admin and out of history (old tokens are still secrets).
    """

    channel = models.OneToOneField("posts.Channel", on_delete=models.CASCADE, related_name="connection")
    access_token = EncryptedTextField()
    status = models.CharField(max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.CONNECTED)
    account_name = models.CharField(max_length=200, blank=True, help_text="The name the platform gave on connecting.")
    connected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    connected_at = models.DateTimeField()
    problem = models.TextField(blank=True, help_text="Why the channel needs reconnecting, in plain words.")
    problem_at = models.DateTimeField(null=True, blank=True)

    history = history(excluded_fields=["access_token"])

    class Meta:
        ordering = ["channel"]

    def __str__(self) -> str:
        return f"{self.channel.name}: {self.get_status_display().lower()}"

    @property
    def usable(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED and bool(self.access_token)


class DeliveryState(models.TextChoices):
    QUEUED = "queued", "Waiting to be sent"
    SENDING = "sending", "Sending"
    RETRYING = "retrying", "Waiting to try again"
    PUBLISHED = "published", "Published"
    RECONNECT = "reconnect", "Held until the channel is reconnected"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Not sent"
    REMOVING = "removing", "Being deleted from the platform"
    REMOVAL_FAILED = "removal_failed", "Could not be deleted: still on the platform"
    REMOVED = "removed", "Deleted from the platform"


class GraphDelivery(models.Model):
    """One post going out to one Graph channel, and the idempotency record of every platform call.

    Each id the platform returns is saved the moment it is returned, and ``publish_started_at`` is saved
    before the one call that makes the post visible, so a retry after a crash looks for the post it may
    already have made instead of making it twice.
    """

    post = models.ForeignKey("posts.Post", on_delete=models.CASCADE, related_name="graph_deliveries")
    channel = models.ForeignKey("posts.Channel", on_delete=models.PROTECT, related_name="graph_deliveries")
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker holds the delivery until then; a worker that died lets go when it passes.
    lease_until = models.DateTimeField(null=True, blank=True)
    # image id -> the platform's id for it (Facebook unpublished photo, or Instagram carousel item container)
    media_ids = models.JSONField(default=dict, blank=True)
    container_id = models.CharField(max_length=64, blank=True, help_text="Instagram container being published.")
    publish_started_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=128, blank=True, help_text="The platform's id of the post.")
    permalink = models.URLField(max_length=500, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    error = models.JSONField(default=dict, blank=True, help_text="The platform's last error, as it sent it.")
    error_message = models.TextField(blank=True, help_text="The last error, in plain words.")
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = history()

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name_plural = "Graph deliveries"
        constraints = [models.UniqueConstraint(fields=["post", "channel"], name="one_graph_delivery_per_channel")]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.post} to {self.channel.name}: {self.get_state_display().lower()}"
