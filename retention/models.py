"""How long each kind of personal data is kept, what pauses its deletion, and what each run removed.

The periods' defaults, limits and where each comes from are declared once in ``retention.kinds`` and
listed in the README; the fields here carry the same limits as validators.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from nursery.audit import history
from nursery.models import Child, Nursery
from staff_conduct.models import PrivateStorage


def period(default: int, minimum: int, maximum: int, help_text: str):
    return models.PositiveIntegerField(
        default=default, validators=[MinValueValidator(minimum), MaxValueValidator(maximum)], help_text=help_text,
    )


class RetentionSchedule(models.Model):
    """One nursery's retention periods. A nursery without a row uses the defaults."""

    nursery = models.OneToOneField(Nursery, on_delete=models.CASCADE, related_name="retention_schedule")
    notifications_days = period(90, 30, 365, "In-app notifications (and their email copies' records), from when sent.")
    photos_after_leaving_days = period(
        30, 0, 365, "Photos picturing a child, from the day the child leaves."
    )
    photos_after_takedown_days = period(
        7, 0, 90, "Photos picturing a child whose consent was withdrawn, from the confirmed takedown.",
    )
    consent_years = period(
        6, 1, 25, "Consent decisions (with paper scans) and requests about a child, from the day the child leaves.",
    )
    comments_months = period(12, 1, 72, "Comments and their moderation, from the item's resolution.")
    concerns_years = period(3, 3, 10, "Concerns raised by staff or parents (and screenshots), from resolution.")
    safeguarding_years = period(
        25, 6, 25, "Comments and concerns escalated as a safeguarding concern, from resolution.",
    )
    incidents_years = period(6, 1, 10, "Staff conduct incidents with their notes and evidence, from closing.")
    invitations_days = period(
        90, 30, 365, "Invitations to the app, from when accepted, revoked or expired (open ones are kept).",
    )
    access_exports_days = period(30, 7, 90, "Subject access ZIP files, from when built (the request stays).")

    history = history()

    def __str__(self) -> str:
        return f"Retention schedule of {self.nursery}"


class LegalHold(models.Model):
    """Pauses every deletion that touches a child, a person or an incident, until released."""

    nursery = models.ForeignKey(Nursery, on_delete=models.PROTECT, related_name="legal_holds")
    child = models.ForeignKey(Child, null=True, blank=True, on_delete=models.PROTECT, related_name="legal_holds")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="legal_holds"
    )
    incident = models.ForeignKey(
        "staff_conduct.Incident", null=True, blank=True, on_delete=models.PROTECT, related_name="legal_holds"
    )
    reason = models.TextField(help_text="Why deletion must wait: a claim, a complaint, a police request...")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    release_reason = models.TextField(blank=True)

    history = history()

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(child__isnull=False) & Q(person__isnull=True) & Q(incident__isnull=True))
                | (Q(child__isnull=True) & Q(person__isnull=False) & Q(incident__isnull=True))
                | (Q(child__isnull=True) & Q(person__isnull=True) & Q(incident__isnull=False)),
                name="legal_hold_on_one_thing",
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | ~Q(release_reason=""), name="legal_hold_release_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["nursery", "released_at"])]

    def __str__(self) -> str:
        return f"Legal hold on {self.subject_label}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None

    @property
    def subject_label(self) -> str:
        if self.child_id:
            return f"child {self.child}"
        if self.person_id:
            return f"{self.person.get_full_name() or self.person.username}"
        return f"incident #{self.incident_id}"


class RetentionRun(models.Model):
    """One run of the retention task: when, how it ended, and (in its counts) what kind and how many."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running (or stopped without finishing)"
        COMPLETED = "completed", "Completed: nothing due is left"
        PAUSED = "paused", "Time budget spent: the rest continues next run"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    total = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Retention run {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class RetentionCount(models.Model):
    """How many rows of one kind a run removed for one nursery (none for records of no nursery). No content."""

    run = models.ForeignKey(RetentionRun, on_delete=models.CASCADE, related_name="counts")
    nursery = models.ForeignKey(Nursery, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    count = models.PositiveIntegerField(default=0)
    files = models.PositiveIntegerField(default=0, help_text="Files removed from storage.")

    class Meta:
        ordering = ["run", "nursery", "kind"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.count}"


def export_path(instance, filename: str) -> str:
    import uuid

    return f"subject-access/{instance.nursery_id}/{uuid.uuid4().hex}.zip"


class SubjectAccessRequest(models.Model):
    """A person's request for the personal data held about them, and the ZIP that answers it.

    The ZIP lives in private storage (no URL), is downloaded only by leadership, and its file is removed
    by the retention run once ``RetentionSchedule.access_exports_days`` have passed; the row stays as the
    record that the request was answered, and when.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to be built"
        BUILDING = "building", "Being built"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Delivered; the file has been removed"

    nursery = models.ForeignKey(Nursery, on_delete=models.PROTECT, related_name="subject_access_requests")
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField(help_text="The day the request reached the nursery: the one-month clock starts.")
    notes = models.TextField(blank=True, help_text="How the request came in and how the person's identity was checked.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to=export_path, storage=PrivateStorage(), blank=True, max_length=300)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    downloads = models.PositiveIntegerField(default=0)
    last_downloaded_at = models.DateTimeField(null=True, blank=True)
    last_downloaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    history = history()

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["nursery", "requested_at"])]

    def __str__(self) -> str:
        return f"Subject access request #{self.pk}"

    @property
    def due_on(self):
        from retention.kinds import months_before

        # One calendar month (UK GDPR art. 12(3)): the same day next month, or its last day.
        return months_before(self.received_on, -1)


class ErasureRequest(models.Model):
    """A person's request to have their personal data erased: recorded, assessed, carried out, recorded.

    ``outcome`` is what was done, line by line (what, how many, erased / anonymised / kept, and why): counts
    and reasons, never the content.
    """

    class Status(models.TextChoices):
        RECORDED = "recorded", "Recorded: not yet carried out"
        CARRIED_OUT = "carried_out", "Carried out"

    nursery = models.ForeignKey(Nursery, on_delete=models.PROTECT, related_name="erasure_requests")
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField(help_text="The day the request reached the nursery: the one-month clock starts.")
    notes = models.TextField(blank=True, help_text="How the request came in and how the person's identity was checked.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECORDED)
    carried_out_at = models.DateTimeField(null=True, blank=True)
    carried_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.JSONField(default=list, blank=True)

    history = history()

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["nursery", "requested_at"])]

    def __str__(self) -> str:
        return f"Erasure request #{self.pk}"

    @property
    def due_on(self):
        from retention.kinds import months_before

        return months_before(self.received_on, -1)
