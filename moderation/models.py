"""Comment moderation: every comment on the nursery's pages, the rules that screen it, and the review queue.

A comment arrives by platform webhook (``WebhookDelivery`` -> ``CommentEvent`` -> ``Comment``), by manual
entry, or a ``Concern`` is reported. Each becomes one ``ModerationItem`` in the queue; every step taken on
an item is an ``ItemAction`` row (append-only), and the item itself keeps a simple-history trail.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from nursery.audit import history
from nursery.ledger import AppendOnlyModel
from nursery.models import Nursery
from posts.models import Channel, Platform, Post


class Category(models.TextChoices):
    FOUL_LANGUAGE = "foul_language", "Foul language"
    CHILD_NAMED = "child_named", "Child named"
    PERSONAL_DATA = "personal_data", "Personal data"
    PRIVATE_CONTACT = "private_contact", "Private contact attempt with staff"
    SHARING = "sharing", "Sharing or screenshots of children"
    SAFEGUARDING = "safeguarding", "Safeguarding concern words"


class Severity(models.IntegerChoices):
    LOW = 1, "Low"
    MEDIUM = 2, "Medium"
    HIGH = 3, "High"


class Priority(models.IntegerChoices):
    """Queue order: concerns first, then flagged comments by their worst hit, then the clean ones."""

    ACKNOWLEDGE = 0, "Clean: acknowledge"
    LOW = 1, "Low"
    MEDIUM = 2, "Medium"
    HIGH = 3, "High"
    CONCERN = 4, "Concern report"


class CommentState(models.TextChoices):
    VISIBLE = "visible", "Visible"
    EDITED = "edited", "Visible (edited)"
    HIDDEN = "hidden", "Hidden on the platform"
    REMOVED = "removed", "Removed from the platform"


class CommentKind(models.TextChoices):
    COMMENT = "comment", "Comment"
    VISITOR_POST = "visitor_post", "Post by someone else on the Page"


class CommentSource(models.TextChoices):
    WEBHOOK = "webhook", "Platform webhook"
    MANUAL = "manual", "Entered by staff"


class WebhookDelivery(models.Model):
    """One signed POST from Meta, stored as received, before anything is interpreted."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    received_at = models.DateTimeField()
    body = models.TextField(help_text="The raw request body, exactly as signed.")
    body_sha256 = models.CharField(
        max_length=64, unique=True, help_text="Meta retries a delivery for hours: the same body is stored once."
    )
    object_type = models.CharField(max_length=32, blank=True, help_text="'page' or 'instagram'.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    processed_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True, help_text="What processing skipped or could not use, and why.")

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"{self.object_type or 'delivery'} {self.received_at:%Y-%m-%d %H:%M:%S} ({self.get_status_display()})"


class Comment(models.Model):
    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="comments")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="comments")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    source = models.CharField(max_length=16, choices=CommentSource.choices, default=CommentSource.WEBHOOK)
    kind = models.CharField(
        max_length=16, choices=CommentKind.choices, default=CommentKind.COMMENT,
        help_text="A comment, or a post someone else made on the Page (the policy does not allow them).",
    )
    external_id = models.CharField(
        max_length=128, blank=True, help_text="The platform's id of the comment (of the post, for a visitor post)."
    )
    external_post_id = models.CharField(max_length=128, blank=True)
    external_parent_id = models.CharField(
        max_length=128, blank=True, help_text="The comment this one replies to, or the post itself."
    )
    author_external_id = models.CharField(max_length=128, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True, help_text="The latest version; every version is kept.")
    photo_url = models.URLField(
        blank=True, max_length=1000,
        help_text="The image of a photo, GIF or sticker comment: Meta's address, linked and shown, not copied.",
    )
    link = models.URLField(blank=True, max_length=1000, help_text="Where to open it on the platform.")
    created_on_platform = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments",
        help_text="Our post, when the platform post id is one that we published.",
    )
    state = models.CharField(max_length=16, choices=CommentState.choices, default=CommentState.VISIBLE)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    history = history()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], condition=~Q(external_id=""), name="one_comment_per_platform_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.author_name or 'Someone'}: {self.text[:60]}"


class CommentVersion(models.Model):
    """Every text a comment has had: an edit on the platform never erases what was first said."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["comment", "number"]
        constraints = [models.UniqueConstraint(fields=["comment", "number"], name="one_comment_version_number")]

    def __str__(self) -> str:
        return f"v{self.number} of comment {self.comment_id}"


class CommentEvent(models.Model):
    """One change a platform told us about (add, edited, remove, hide, unhide), applied exactly once."""

    class Verb(models.TextChoices):
        ADD = "add", "Added"
        EDITED = "edited", "Edited"
        REMOVE = "remove", "Removed"
        HIDE = "hide", "Hidden"
        UNHIDE = "unhide", "Unhidden"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="events")
    delivery = models.ForeignKey(WebhookDelivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    verb = models.CharField(max_length=16, choices=Verb.choices)
    # platform:comment id:verb, plus a digest of the new text for edits (a comment may be edited many times).
    key = models.CharField(max_length=255, unique=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_verb_display()} {self.comment_id}"


class ScreeningRule(models.Model):
    class Kind(models.TextChoices):
        WORDS = "words", "Word list"
        REGEX = "regex", "Regular expression"
        DETECTOR = "detector", "Built-in detector"

    class Detector(models.TextChoices):
        CHILD_FULL_NAMES = "child_full_names", "Children's full names"
        CHILD_FIRST_NAMES = "child_first_names", "First names of the children pictured in the post"
        PHONE = "phone", "Phone numbers"
        EMAIL = "email", "Email addresses"
        POSTCODE = "postcode", "UK postcodes"
        CONTACT_ATTEMPT = "contact_attempt", "Friend request / DM / message me"

    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="screening_rules")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    category = models.CharField(max_length=32, choices=Category.choices)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.MEDIUM)
    words = models.TextField(blank=True, help_text="Word list: one word or phrase per line (whole words, any case).")
    pattern = models.CharField(
        max_length=200, blank=True, help_text="Regular expression (any case). Nested repeats are refused."
    )
    detector = models.CharField(max_length=32, choices=Detector.choices, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = history()

    class Meta:
        ordering = ["nursery", "-severity", "name"]
        constraints = [
            models.UniqueConstraint(fields=["nursery", "name"], name="screening_rule_name_unique_per_nursery")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from moderation.screening import check_pattern, word_list

        if self.kind == self.Kind.WORDS and not word_list(self.words):
            raise ValidationError({"words": "List at least one word or phrase, one per line."})
        if self.kind == self.Kind.REGEX:
            if not self.pattern:
                raise ValidationError({"pattern": "Enter the regular expression."})
            try:
                check_pattern(self.pattern)
            except ValidationError as exc:
                raise ValidationError({"pattern": exc.messages}) from exc
        if self.kind == self.Kind.DETECTOR and not self.detector:
            raise ValidationError({"detector": "Choose the built-in detector."})


class Concern(models.Model):
    """A report by staff (a concerning comment or question seen anywhere) or by a parent (official procedure)."""

    class Reporter(models.TextChoices):
        STAFF = "staff", "Staff"
        PARENT = "parent", "Parent / carer"

    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="concerns")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reporter = models.CharField(max_length=16, choices=Reporter.choices)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    where_seen = models.CharField(max_length=200, blank=True)
    link = models.URLField(blank=True, max_length=500)
    description = models.TextField()
    screenshot = models.ImageField(upload_to="concerns/%Y/%m/", blank=True)
    raised_at = models.DateTimeField()

    history = history()

    class Meta:
        ordering = ["-raised_at", "-id"]

    def __str__(self) -> str:
        return f"Concern from {self.raised_by} ({self.raised_at:%d %b %Y})"


class ItemStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    CLAIMED = "claimed", "Claimed"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened (edited)"


OPEN_STATUSES = (ItemStatus.PENDING, ItemStatus.CLAIMED, ItemStatus.REOPENED)


class Action(models.TextChoices):
    NO_CONCERN = "no_concern", "No concern"
    ACKNOWLEDGED = "acknowledged", "Acknowledged (clean)"
    HIDE = "hide", "Hide on the platform"
    DELETE = "delete", "Delete on the platform"
    REPLY = "reply", "Reply through the official channel"
    ESCALATE = "escalate", "Escalate as a safeguarding concern"


class PlatformActionStatus(models.TextChoices):
    NONE = "", "None"
    AWAITING = "awaiting", "Awaiting platform action"
    DONE = "done", "Done on the platform"
    FAILED = "failed", "Failed on the platform"


class ModerationItem(models.Model):
    """One thing to review. ``version`` rises with every change so a stale form can never overwrite one."""

    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="moderation_items")
    comment = models.OneToOneField(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="moderation_item"
    )
    concern = models.OneToOneField(
        Concern, null=True, blank=True, on_delete=models.CASCADE, related_name="moderation_item"
    )
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    score = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    version = models.PositiveIntegerField(default=1)
    # The review clock: restarted when an edit reopens the item (``round`` counts the restarts).
    opened_at = models.DateTimeField()
    round = models.PositiveSmallIntegerField(default=1)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices, blank=True)
    reason = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    platform_action_status = models.CharField(
        max_length=16, choices=PlatformActionStatus.choices, blank=True, default=PlatformActionStatus.NONE
    )

    history = history()

    class Meta:
        ordering = ["-priority", "opened_at", "id"]
        indexes = [
            models.Index(fields=["nursery", "status", "priority", "opened_at"]),
            models.Index(fields=["status", "opened_at"]),
            # The queue's two orders, so a page is read from the index instead of sorting every item.
            models.Index(fields=["nursery", "-priority", "opened_at", "id"], name="moderation_open_queue",
                         condition=Q(status__in=["pending", "claimed", "reopened"])),
            models.Index(fields=["nursery", "-resolved_at", "-id"], name="moderation_resolved",
                         condition=Q(status="resolved")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(comment__isnull=False) & Q(concern__isnull=True))
                | (Q(comment__isnull=True) & Q(concern__isnull=False)),
                name="moderation_item_is_about_one_thing",
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved") | (Q(resolved_at__isnull=False) & ~Q(action="")),
                name="resolved_item_has_action",
            ),
        ]

    def __str__(self) -> str:
        what = "Concern" if self.concern_id else "Comment"
        return f"{what} #{self.pk} ({self.get_priority_display()}, {self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_flagged(self) -> bool:
        return self.priority > Priority.ACKNOWLEDGE

    def target(self) -> timedelta:
        """How long this item may wait for review, from the nursery's settings."""
        nursery = self.nursery
        minutes = {
            Priority.CONCERN: nursery.moderation_target_high_minutes,
            Priority.HIGH: nursery.moderation_target_high_minutes,
            Priority.MEDIUM: nursery.moderation_target_medium_minutes,
        }.get(self.priority, nursery.moderation_target_low_minutes)
        return timedelta(minutes=minutes)

    @property
    def due_at(self):
        return self.opened_at + self.target()


class RuleHit(models.Model):
    """What a rule found in the current text of an item: offsets, so the page can highlight exactly that."""

    item = models.ForeignKey(ModerationItem, on_delete=models.CASCADE, related_name="hits")
    rule = models.ForeignKey(ScreeningRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rule_name = models.CharField(max_length=100)
    category = models.CharField(max_length=32, choices=Category.choices)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    matched = models.CharField(max_length=200)

    class Meta:
        ordering = ["item", "start", "id"]
        indexes = [models.Index(fields=["category", "item"])]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.matched}"


class ItemAction(AppendOnlyModel):
    """The item's own story, step by step, as the queue shows it. Append-only."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Entered the queue"
        CLAIMED = "claimed", "Claimed"
        RELEASED = "released", "Released"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        RESCREENED = "rescreened", "Screened again"
        PLATFORM_STATE = "platform_state", "Changed on the platform"
        OVERDUE = "overdue", "Past its review target"
        ESCALATED = "escalated", "Escalated"
        PLATFORM_ACTION = "platform_action", "Platform action"

    item = models.ForeignKey(ModerationItem, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["item", "at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%d %b %H:%M})"


class Escalation(models.Model):
    """An escalation sent for one item in one review round: the unique key is what stops a second send."""

    class Level(models.IntegerChoices):
        OVERDUE = 1, "Past target: safeguarding lead and leadership told"
        ESCALATED = 2, "Past twice the target: manager told again"

    item = models.ForeignKey(ModerationItem, on_delete=models.CASCADE, related_name="escalations")
    round = models.PositiveSmallIntegerField()
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["item", "round", "level"]
        constraints = [
            models.UniqueConstraint(fields=["item", "round", "level"], name="one_escalation_per_item_round_level")
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} (item {self.item_id}, round {self.round})"
