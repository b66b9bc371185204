"""Policy documents people acknowledge, and conduct incidents followed through to an outcome.

Acknowledgements, investigation notes and evidence are evidence: rows are added, never changed or deleted.
A whistleblower's identity never sits on the incident (nor in its history): it lives in
``ConfidentialReporter``, which only the nursery's whistleblowing officer may read.
"""

import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from nursery.audit import history
from nursery.ledger import AppendOnlyModel, ImmutableRowError  # noqa: F401 (ImmutableRowError: re-exported)
from nursery.models import STAFF_ROLES, Nursery, Role
from nursery.storage import PrivateStorage  # migrations name it here: staff_conduct.models.PrivateStorage

# --- Policies and acknowledgements ---------------------------------------------------------------


class PolicyKind(models.TextChoices):
    STAFF = "staff", "Staff social media policy"
    PARENTS = "parents", "Parents' and visitors' social media rules"


# Who must acknowledge each kind of policy: everyone who works at the nursery, or the families.
AUDIENCE: dict[str, frozenset[str]] = {
    PolicyKind.STAFF: frozenset(STAFF_ROLES),
    PolicyKind.PARENTS: frozenset({Role.PARENT}),
}


class PolicyDocument(models.Model):
    nursery = models.ForeignKey(Nursery, on_delete=models.PROTECT, related_name="policy_documents")
    kind = models.CharField(max_length=32, choices=PolicyKind.choices)
    title = models.CharField(max_length=200)

    history = history()

    class Meta:
        ordering = ["nursery", "kind"]
        constraints = [models.UniqueConstraint(fields=["nursery", "kind"], name="one_policy_document_per_kind")]

    def __str__(self) -> str:
        return f"{self.title} ({self.nursery})"

    @property
    def audience(self) -> frozenset[str]:
        return AUDIENCE[self.kind]


class PolicyVersion(models.Model):
    """The exact text people acknowledge; a later version in force asks everyone again."""

    document = models.ForeignKey(PolicyDocument, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    text = models.TextField(help_text="The introduction and any text around the clauses.")
    effective_on = models.DateField(help_text="The day from which this version is in force.")
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    history = history()

    class Meta:
        ordering = ["document", "-version"]
        constraints = [models.UniqueConstraint(fields=["document", "version"], name="one_policy_version_number")]

    def __str__(self) -> str:
        return f"{self.document.title} v{self.version}"


class PolicyClause(models.Model):
    """One bullet of a policy version, so an incident can cite exactly what was breached."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="clauses")
    number = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=500)

    history = history()

    class Meta:
        ordering = ["version", "number"]
        constraints = [models.UniqueConstraint(fields=["version", "number"], name="one_clause_per_number")]

    def __str__(self) -> str:
        return f"{self.number}. {self.text}"


class Acknowledgement(AppendOnlyModel):
    """Someone read one version and said so, signing with their typed name."""

    nursery = models.ForeignKey(Nursery, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signature = models.CharField(max_length=200, help_text="The full name typed.")
    acknowledged_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    history = history()

    class Meta:
        ordering = ["-acknowledged_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "user"], name="one_acknowledgement_per_version"),
            models.CheckConstraint(condition=~Q(signature=""), name="acknowledgement_is_signed"),
        ]

    def __str__(self) -> str:
        return f"{self.user} acknowledged {self.version}"


class ChaseKind(models.TextChoices):
    REMINDER = "reminder", "Reminder to the person"
    REPORTED = "reported", "Reported to leadership as outstanding"


class AcknowledgementChase(AppendOnlyModel):
    """What was sent to get one person to acknowledge one version: the record that keeps reminders idempotent."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="chases")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=ChaseKind.choices)
    number = models.PositiveSmallIntegerField(help_text="1 to 4 for reminders; 1 for the report to leadership.")
    sent_at = models.DateTimeField()

    history = history()

    class Meta:
        ordering = ["version", "user", "sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["version", "user", "kind", "number"], name="one_chase_per_step"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number} to {self.user} for {self.version}"


# --- Incidents -----------------------------------------------------------------------------------


class Source(models.TextChoices):
    NAMED = "named", "Named report"
    WHISTLEBLOWING = "whistleblowing", "Whistleblowing (reporter known only to the whistleblowing officer)"
    ANONYMOUS = "anonymous", "Anonymous (reporter not recorded)"


class Status(models.TextChoices):
    REPORTED = "reported", "Reported"
    UNDER_INVESTIGATION = "under_investigation", "Under investigation"
    OUTCOME_DECIDED = "outcome_decided", "Outcome decided"
    CLOSED = "closed", "Closed"
    APPEALED = "appealed", "Under appeal"


OPEN_STATUSES = (Status.REPORTED, Status.UNDER_INVESTIGATION, Status.OUTCOME_DECIDED, Status.APPEALED)


class Outcome(models.TextChoices):
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    INFORMAL_ADVICE = "informal_advice", "Informal advice"
    VERBAL_WARNING = "verbal_warning", "Verbal warning"
    WRITTEN_WARNING = "written_warning", "Written warning"
    FINAL_WRITTEN_WARNING = "final_written_warning", "Final written warning"
    DISMISSAL = "dismissal", "Dismissal"


class AppealDecision(models.TextChoices):
    UPHELD = "upheld", "Appeal upheld: the outcome is overturned"
    VARIED = "varied", "Outcome varied"
    DISMISSED = "dismissed", "Appeal dismissed: the outcome stands"


class Incident(models.Model):
    """A concern about a member of staff's conduct, from report to outcome (and appeal)."""

    nursery = models.ForeignKey(Nursery, on_delete=models.PROTECT, related_name="incidents")
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="staff member concerned"
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.NAMED)
    # Only for named reports: a whistleblower is kept in ConfidentialReporter, an anonymous one nowhere.
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField()
    occurred_on = models.DateField("when it happened")
    where = models.CharField(
        max_length=300, blank=True, help_text="Where it was seen: the site or app, a link, a group's name."
    )
    description = models.TextField()
    clauses = models.ManyToManyField(PolicyClause, related_name="incidents", blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.REPORTED)

    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    investigation_due_on = models.DateField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)

    outcome = models.CharField(max_length=32, choices=Outcome.choices, blank=True)
    outcome_reason = models.TextField(blank=True)
    outcome_decided_on = models.DateField(null=True, blank=True)
    outcome_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    appeal_received_on = models.DateField(null=True, blank=True)
    appeal_grounds = models.TextField(blank=True)
    appeal_decision = models.CharField(max_length=16, choices=AppealDecision.choices, blank=True)
    varied_outcome = models.CharField(max_length=32, choices=Outcome.choices, blank=True)
    appeal_reason = models.TextField(blank=True)
    appeal_decided_on = models.DateField(null=True, blank=True)
    appeal_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    history = history()

    class Meta:
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["nursery", "status", "reported_at"]),
            models.Index(fields=["nursery", "subject"]),
            # The incident list's order: a page's ids are read off this index, not sorted from every row.
            models.Index(fields=["nursery", "-reported_at", "-id"], name="incident_list_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(source="named") | Q(reported_by__isnull=True), name="only_named_reports_name_the_reporter"
            ),
            models.CheckConstraint(condition=~Q(subject=models.F("investigator")), name="subject_never_investigates"),
        ]

    def __str__(self) -> str:
        return f"Incident #{self.pk}"

    @property
    def reference(self) -> str:
        return f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def final_outcome(self) -> str:
        """The outcome that stands once any appeal is decided."""
        if self.appeal_decision == AppealDecision.UPHELD:
            return Outcome.NO_FURTHER_ACTION
        if self.appeal_decision == AppealDecision.VARIED:
            return self.varied_outcome
        return self.outcome

    @property
    def final_outcome_label(self) -> str:
        return Outcome(self.final_outcome).label if self.final_outcome else ""

    def appeal_deadline(self, nursery: Nursery | None = None) -> date | None:
        if self.outcome_decided_on is None:
            return None
        return self.outcome_decided_on + timedelta(days=(nursery or self.nursery).appeal_window_days)


class ConfidentialReporter(AppendOnlyModel):
    """Who made a whistleblowing report. Read only by the nursery's whistleblowing officer.

    No history table on purpose: the row is written once and never changes, and a history copy would be one
    more place holding the name.
    """

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="confidential_reporter")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "confidential reporter"

    def __str__(self) -> str:
        return f"Whistleblower for incident #{self.incident_id}"


class InvestigationNote(AppendOnlyModel):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()
    text = models.TextField()

    history = history()

    class Meta:
        ordering = ["written_at", "id"]

    def __str__(self) -> str:
        return f"Note on incident #{self.incident_id} by {self.author}"


def evidence_path(instance, filename: str) -> str:
    # The name the person chose is kept as data, never as a path.
    suffix = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp",
              "image/gif": ".gif"}.get(instance.content_type, "")
    return f"conduct-evidence/{instance.incident.nursery_id}/{uuid.uuid4().hex}{suffix}"


class Evidence(AppendOnlyModel):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, storage=PrivateStorage(), max_length=300)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, help_text="Fingerprint of the file as received.")
    description = models.CharField(max_length=300, blank=True)
    # Empty when it came with a whistleblowing or anonymous report: the uploader is the reporter.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    history = history()

    class Meta:
        verbose_name_plural = "evidence"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.original_name} (incident #{self.incident_id})"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class EscalationReason(models.TextChoices):
    NOT_ASSIGNED = "not_assigned", "Not assigned within 2 working days"
    OVERDUE = "overdue", "Investigation past its due date"


class IncidentEscalation(AppendOnlyModel):
    """One message to the manager about one incident and one deadline: sent once, however often the task runs."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="escalations")
    reason = models.CharField(max_length=16, choices=EscalationReason.choices)
    deadline = models.DateTimeField(help_text="The deadline that was missed.")
    sent_at = models.DateTimeField()

    history = history()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "reason", "deadline"], name="one_escalation_per_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: incident #{self.incident_id}"
