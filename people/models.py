from django.conf import settings
from django.db import models
from django.db.models import Q

from nursery.audit import history
from nursery.models import Nursery, Role


class Invitation(models.Model):
    """An emailed link to set a password and come in: single use, expires, can be resent or revoked.

    Only a SHA-256 hash of the link's token is stored, written by the task that sends the email; the token
    itself exists only in that email. Resending replaces the token (the old link stops working at once).
    """

    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=32, choices=Role.choices)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    send_pending = models.BooleanField(default=True, help_text="An email with a new link is waiting to be sent.")
    sends = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    history = history(excluded_fields=["token_hash"])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["nursery", "user"], condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.nursery} ({self.get_role_display()})"

    def status(self, now) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.send_pending:
            return "sending"
        if self.expires_at and self.expires_at <= now:
            return "expired"
        return "pending"
