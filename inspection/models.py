"""Inspection packs: one ZIP (a PDF and the same tables as CSV) per request, built by a worker.

A pack holds personal data of every child on roll, so its file lives in private storage (no URL), is served
only by a permission-checked view that records each download, and is deleted when its link expires.
"""

import uuid

from django.conf import settings
from django.db import models

from nursery.audit import history
from nursery.ledger import AppendOnlyModel
from nursery.models import Nursery
from staff_conduct.models import PrivateStorage


class PackStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for the worker"
    BUILDING = "building", "Being built"
    READY = "ready", "Ready to download"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired (file deleted)"


def pack_path(instance, filename: str) -> str:
    return f"inspection-packs/{instance.nursery_id}/{uuid.uuid4().hex}.zip"


class InspectionPack(models.Model):
    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="inspection_packs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    period_start = models.DateField()
    period_end = models.DateField(help_text="Inclusive.")
    status = models.CharField(max_length=16, choices=PackStatus.choices, default=PackStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done, for the page.")
    step = models.CharField(max_length=200, blank=True, help_text="What the worker is doing now.")
    started_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="After this the link stops working.")
    file = models.FileField(upload_to=pack_path, storage=PrivateStorage(), max_length=300, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    history = history()

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["nursery", "requested_at"]), models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(period_start__lte=models.F("period_end")),
                                   name="pack_period_starts_before_it_ends"),
        ]

    def __str__(self) -> str:
        return f"Inspection pack {self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"

    @property
    def filename(self) -> str:
        return f"inspection-pack-{self.period_start:%Y-%m-%d}-to-{self.period_end:%Y-%m-%d}.zip"

    @property
    def is_working(self) -> bool:
        return self.status in (PackStatus.QUEUED, PackStatus.BUILDING)

    def is_downloadable(self, now) -> bool:
        return self.status == PackStatus.READY and self.expires_at is not None and now < self.expires_at


class PackDownload(AppendOnlyModel):
    """Who downloaded which pack, when, from where: written once, never changed."""

    pack = models.ForeignKey(InspectionPack, on_delete=models.PROTECT, related_name="downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    downloaded_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    history = history()

    class Meta:
        ordering = ["-downloaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} downloaded pack #{self.pack_id}"
