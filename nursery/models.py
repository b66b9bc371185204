from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from nursery.audit import history


class Role(models.TextChoices):
    LEADERSHIP = "leadership", "Leadership team"
    SAFEGUARDING_LEAD = "safeguarding_lead", "Safeguarding lead"
    STAFF = "staff", "Practitioner"
    PARENT = "parent", "Parent / carer"


STAFF_ROLES = frozenset({Role.LEADERSHIP, Role.SAFEGUARDING_LEAD, Role.STAFF})


class Nursery(models.Model):
    """A setting, and the settings that its policies are enforced with."""

    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    contact_email = models.EmailField(blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Receives escalations that nobody else has acted on.",
    )
    # Consent
    consent_renewal_months = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="A grant of photo consent stops being effective after this many months.",
    )
    # Posts
    four_eyes_approval = models.BooleanField(
        default=True, help_text="A leader may not approve a post that they wrote themselves.",
    )
    occasion_days_before = models.PositiveSmallIntegerField(
        default=7, help_text="Posts about a special occasion may go out from this many days before its date.",
    )
    occasion_days_after = models.PositiveSmallIntegerField(
        default=14, help_text="... and up to this many days after it; then the occasion leaves the New post list.",
    )
    takedown_deadline_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1)],
        help_text="Time allowed to remove a published post after consent is withdrawn.",
    )
    # Moderation: how long an item may wait for review before it escalates, per severity.
    moderation_target_high_minutes = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    moderation_target_medium_minutes = models.PositiveIntegerField(
        default=240, validators=[MinValueValidator(1)]
    )
    moderation_target_low_minutes = models.PositiveIntegerField(default=1440, validators=[MinValueValidator(1)])
    # Staff conduct
    whistleblowing_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The only person who may see who made a whistleblowing report (a member of leadership).",
    )
    appeal_window_days = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1)],
        help_text="Days after an outcome within which the staff member may appeal.",
    )

    history = history()

    class Meta:
        verbose_name_plural = "nurseries"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        # Only a leader may read whistleblowers' names; anyone else named here would learn them.
        officer = self.whistleblowing_officer_id
        if officer and (
            self.pk is None
            or not self.memberships.filter(user_id=officer, role=Role.LEADERSHIP).exists()
        ):
            raise ValidationError(
                {"whistleblowing_officer": "The whistleblowing officer must be on the leadership team."}
            )


class Room(models.Model):
    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=100)
    archived_at = models.DateTimeField(null=True, blank=True, help_text="An archived room takes no children.")

    history = history()

    class Meta:
        ordering = ["nursery", "name"]
        constraints = [models.UniqueConstraint(fields=["nursery", "name"], name="room_name_unique_per_nursery")]

    def __str__(self) -> str:
        return self.name


class ChildQuerySet(models.QuerySet):
    def on_roll(self, on: date | None = None):
        from django.utils import timezone

        on = on or timezone.localdate()
        return self.filter(joined_on__lte=on).filter(Q(left_on__isnull=True) | Q(left_on__gt=on))


class Child(models.Model):
    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="children")
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True, help_text="Leave empty while the child is on roll.")
    left_processed_on = models.DateField(
        null=True, blank=True, editable=False,
        help_text="The leaving date whose follow-up (takedowns, posts, parents' access) has run.",
    )

    history = history()
    objects = ChildQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "children"
        ordering = ["first_name", "last_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="child_leaves_after_joining",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def is_on_roll(self, on: date | None = None) -> bool:
        from django.utils import timezone

        on = on or timezone.localdate()
        return self.joined_on <= on and (self.left_on is None or self.left_on > on)


class Guardianship(models.Model):
    """A parent or carer of a child; only those with parental responsibility decide on consent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guardianships")
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="guardianships")
    relationship = models.CharField(max_length=50, help_text="For example mother, father, grandparent, carer.")
    has_parental_responsibility = models.BooleanField(default=True)

    history = history()

    class Meta:
        ordering = ["child", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "child"], name="one_guardianship_per_pair")]

    def __str__(self) -> str:
        return f"{self.user} ({self.relationship} of {self.child})"


class Membership(models.Model):
    """A role held by a user in one nursery; a user may hold several."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)

    history = history()

    class Meta:
        ordering = ["nursery", "user", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "nursery", "role"], name="one_membership_per_role")
        ]
        # Who holds a role here (the audience of a policy, the staff of a filter): read off this index alone.
        indexes = [models.Index(fields=["nursery", "role", "user"], name="membership_by_role")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.nursery}"


class Notification(models.Model):
    """An in-app message; its email copy is sent by a Celery task and marked here once sent."""

    nursery = models.ForeignKey(Nursery, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    url = models.CharField(max_length=500, blank=True, help_text="Where to act on it, inside this app.")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.subject


class OutboxMessage(models.Model):
    """A side effect that must happen because a transaction committed: a Celery task call, stored first.

    Written in the caller's transaction (so it exists exactly when the change that caused it exists),
    sent to the broker after commit, and sent again by ``dispatch_outbox`` until a worker has run it.
    ``nursery/outbox.py`` is the only code that writes these rows; docs/outbox.md explains the states.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to run"
        DONE = "done", "Done"
        DEAD = "dead", "Gave up (see the last error)"

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    key = models.CharField(
        max_length=200, unique=True, null=True, blank=True,
        help_text="Idempotency key: a second message with the same key is not written.",
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField(help_text="When it is to run: at once, later (a retry), or after a backoff.")
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="Last handed to the broker; sent again if still waiting a lease later."
    )
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is running it until then (a lease: a killed worker lets go)."
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The dispatcher's query: waiting rows by due time (a partial index stays small as rows finish).
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="outbox_pending_due"),
            models.Index(fields=["state", "created_at"], name="outbox_state_created"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk} ({self.get_state_display()})"
