from django.conf import settings
from django.db import models
from django.db.models import Q

from nursery.audit import history
from nursery.ledger import AppendOnlyModel, ImmutableRowError  # noqa: F401 (ImmutableRowError: re-exported)
from nursery.models import Child, Nursery


class Scope(models.TextChoices):
    CLOSED = "closed", "Private parents' pages"
    PUBLIC = "public", "Public marketing pages"


class Decision(models.TextChoices):
    GRANTED = "granted", "Granted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Method(models.TextChoices):
    ONLINE = "online", "Online"
    PAPER = "paper", "Paper form"


class ConsentWording(models.Model):
    """The exact text a guardian agrees to; a new version makes grants of older versions not current."""

    nursery = models.ForeignKey(Nursery, on_delete=models.PROTECT, related_name="consent_wordings")
    scope = models.CharField(max_length=16, choices=Scope.choices)
    version = models.PositiveIntegerField()
    text = models.TextField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    history = history()

    class Meta:
        ordering = ["nursery", "scope", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["nursery", "scope", "version"], name="one_wording_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} wording v{self.version}"


class ConsentDecision(AppendOnlyModel):
    """One grant or withdrawal, as given. Never updated, never deleted: the evidence an inspector reads."""

    nursery = models.ForeignKey(Nursery, on_delete=models.PROTECT, related_name="consent_decisions")
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="consent_decisions")
    scope = models.CharField(max_length=16, choices=Scope.choices)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    guardian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signature = models.CharField(max_length=200, blank=True, help_text="The full name typed (or signed on paper).")
    wording = models.ForeignKey(ConsentWording, on_delete=models.PROTECT, related_name="decisions")
    decided_at = models.DateTimeField(help_text="When the guardian decided (the date signed, for paper).")
    recorded_at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=16, choices=Method.choices)
    paper_scan = models.FileField(upload_to="consent-scans/%Y/%m/", blank=True)
    paper_scan_sha256 = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the scan as uploaded; the file stored is a clean copy.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The member of staff who entered a paper form.",
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    history = history()

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["child", "scope", "guardian", "decided_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(method="online") | (~Q(paper_scan="") & Q(recorded_by__isnull=False)),
                name="paper_decision_has_scan_and_recorder",
            ),
            models.CheckConstraint(
                condition=Q(decision="withdrawn") | ~Q(signature=""), name="grant_is_signed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child} · {self.get_scope_display()} · {self.get_decision_display()}"


class RequestKind(models.TextChoices):
    FIRST_ASK = "first_ask", "Asked for a first decision"
    RENEWAL = "renewal", "Asked to renew"
    NEW_WORDING = "new_wording", "Asked to agree to new wording"
    EXPIRY_NOTICE = "expiry_notice", "Leadership told of an expiry"


class ConsentRequest(models.Model):
    """A request or reminder that was sent: the record that makes the daily reminders safe to run twice.

    ``cycle`` names what the request is about (the day the child joined, the day a grant expires, the
    wording version), so a new grant or a new wording starts a new series of at most a request and
    ``MAX_REMINDERS`` reminders; ``round`` counts within the series (1 is the request itself).
    """

    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="consent_requests")
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="consent_requests")
    scope = models.CharField(max_length=16, choices=Scope.choices)
    kind = models.CharField(max_length=16, choices=RequestKind.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    cycle = models.CharField(max_length=40)
    round = models.PositiveSmallIntegerField(default=1)
    sent_at = models.DateTimeField()

    history = history()

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["child", "scope", "kind", "recipient", "cycle", "round"], name="one_request_per_round"
            )
        ]
        indexes = [models.Index(fields=["nursery", "kind", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.child} · {self.get_scope_display()} · round {self.round}"
