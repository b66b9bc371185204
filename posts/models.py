from datetime import date as calendar_date
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from consent.models import Scope
from nursery.audit import history
from nursery.ledger import AppendOnlyModel
from nursery.models import Child, Nursery


class Platform(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    WEBSITE = "website", "Website"
    OTHER = "other", "Other"


class Channel(models.Model):
    """A place the nursery posts to. Its audience decides which consent scope a post there needs."""

    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(max_length=100)
    platform = models.CharField(max_length=16, choices=Platform.choices)
    audience = models.CharField(
        max_length=16, choices=Scope.choices,
        help_text="Private parents' pages need closed consent; open public pages need public consent.",
    )
    external_id = models.CharField(
        max_length=64, blank=True, help_text="Facebook Page id or Instagram account id: how comments find it."
    )
    url = models.URLField(blank=True)
    active = models.BooleanField(default=True)
    # A name in posts.publishing's registry; a plain string so a new backend needs no migration.
    publisher = models.CharField(
        max_length=32, default="manual", help_text="How posts reach this channel (see posts/publishing.py)."
    )

    history = history()

    class Meta:
        ordering = ["nursery", "name"]
        constraints = [
            models.UniqueConstraint(fields=["nursery", "name"], name="channel_name_unique_per_nursery"),
            models.UniqueConstraint(
                fields=["platform", "external_id"], condition=~Q(external_id=""), name="one_channel_per_platform_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()}, {self.get_audience_display().lower()})"

    @property
    def consent_scope(self) -> str:
        return self.audience


class Occasion(models.Model):
    """A special occasion set up by leadership: the only time photos of children are shared."""

    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="occasions")
    name = models.CharField(max_length=120)
    date = models.DateField()
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    history = history()

    class Meta:
        ordering = ["-date", "name"]
        constraints = [
            models.UniqueConstraint(fields=["nursery", "name", "date"], name="occasion_unique_per_nursery_and_date")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.date:%-d %b %Y})"

    def window(self) -> tuple[calendar_date, calendar_date]:
        """The days a post picturing children may go out under this occasion (the nursery's setting)."""
        nursery = self.nursery
        return (self.date - timedelta(days=nursery.occasion_days_before),
                self.date + timedelta(days=nursery.occasion_days_after))

    def covers(self, day: calendar_date) -> bool:
        first, last = self.window()
        return first <= day <= last


class PostStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Waiting for approval"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    PUBLISHED = "published", "Published"
    TAKEN_DOWN = "taken_down", "Taken down"


class Post(models.Model):
    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts")
    caption = models.TextField(blank=True)
    channels = models.ManyToManyField(Channel, related_name="posts", blank=True)
    occasion = models.ForeignKey(Occasion, null=True, blank=True, on_delete=models.PROTECT, related_name="posts")
    scheduled_for = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=PostStatus.choices, default=PostStatus.DRAFT)
    # Each edit bumps the version; an approval is of one exact version.
    version = models.PositiveIntegerField(default=1)
    approved_version = models.PositiveIntegerField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Whoever changed the current version last: they may not approve it either (four eyes).
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    consent_note = models.TextField(
        blank=True, help_text="Why the post was sent back to draft by a consent change, shown until resubmitted."
    )
    approval_reminded_at = models.DateTimeField(null=True, blank=True)
    schedule_held_at = models.DateTimeField(
        null=True, blank=True, help_text="When leadership was told that the scheduled time passed unpublished."
    )
    blur_unconsented = models.BooleanField(
        default=False,
        help_text="Leadership chose to send each channel a copy with the faces of children who lack consent in "
                  "its scope blurred (posts/blur.py), rather than hold the post back.",
    )

    history = history(m2m_fields=[channels])

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["nursery", "status", "submitted_at"])]

    def __str__(self) -> str:
        first_line = (self.caption or "").strip().splitlines()[0] if (self.caption or "").strip() else "Untitled post"
        return f"{first_line[:60]} (#{self.pk})"


class PostEvent(AppendOnlyModel):
    """One step in a post's life, who took it and why: the history the post page shows. Never changed."""

    class Action(models.TextChoices):
        CREATED = "created", "Drafted"
        EDITED = "edited", "Edited"
        SUBMITTED = "submitted", "Submitted for approval"
        WITHDRAWN = "withdrawn", "Submission withdrawn"
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        REJECTED = "rejected", "Rejected"
        PUBLISHED = "published", "Published"
        TAKEN_DOWN = "taken_down", "Taken down"
        RETURNED_TO_DRAFT = "returned_to_draft", "Sent back to draft"
        SCHEDULE_HELD = "schedule_held", "Scheduled publication held"
        TAKEDOWN_OPENED = "takedown_opened", "Takedown opened"
        TAKEDOWN_ESCALATED = "takedown_escalated", "Takedown overdue"
        TAKEDOWN_REQUESTED = "takedown_requested", "Removal requested"
        TAKEDOWN_CONFIRMED = "takedown_confirmed", "Removal confirmed"
        BLURRING = "blurring", "Blurring chosen"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=24, choices=Action.choices)
    from_status = models.CharField(max_length=20, choices=PostStatus.choices)
    to_status = models.CharField(max_length=20, choices=PostStatus.choices)
    version = models.PositiveIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty when the system acted (a consent withdrawal, a scheduled task).",
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["post", "at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.post_id}, v{self.version})"


class FaceSearch(models.TextChoices):
    """Where the worker is with looking for faces in a photo (posts/faces.py)."""

    PENDING = "pending", "Looking for faces"
    DONE = "done", "Faces counted"
    FAILED = "failed", "Face detection failed"
    NOT_RUN = "not_run", "Not checked for faces (added before face detection)"


class PostImage(models.Model):
    """A processed photo (metadata stripped, re-encoded); the original upload is never kept."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="posts/%Y/%m/", width_field="width", height_field="height")
    thumbnail = models.ImageField(upload_to="posts/thumbs/%Y/%m/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    alt_text = models.CharField(max_length=250, help_text="Describe the photo for people who cannot see it.")
    children = models.ManyToManyField(Child, related_name="pictured_in", blank=True)
    no_identifiable_child = models.BooleanField(
        default=False, help_text="Confirmed: no child can be identified in this photo."
    )
    position = models.PositiveSmallIntegerField(default=0)
    face_search = models.CharField(max_length=10, choices=FaceSearch.choices, default=FaceSearch.PENDING)
    faces_searched_at = models.DateTimeField(null=True, blank=True)

    history = history(m2m_fields=[children])

    class Meta:
        ordering = ["post", "position", "id"]

    def __str__(self) -> str:
        return self.alt_text


class FaceMarking(models.TextChoices):
    """How a person accounted for a detected face (empty: not yet)."""

    CHILD = "child", "A tagged child"
    ADULT = "adult", "An adult"
    NOT_IDENTIFIABLE = "not_identifiable", "Not identifiable (too small, turned away)"
    NOT_A_FACE = "not_a_face", "Not a face"


class DetectedFace(models.Model):
    """Where the detector found a face in a photo: a rectangle in the photo's pixels, and what a person said it is.

    Never an embedding, template or any measurement of the face: nothing here could tell whose face it
    is, or find the same face in another photo. Whose face it is comes from a member of staff who knows
    the children (``marking``, ``child``). Numbered left to right, as on the post's page.
    """

    image = models.ForeignKey(PostImage, on_delete=models.CASCADE, related_name="faces")
    number = models.PositiveSmallIntegerField()
    x = models.PositiveIntegerField()
    y = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    marking = models.CharField(
        max_length=16, choices=FaceMarking.choices, blank=True, help_text="Empty until someone accounts for the face."
    )
    child = models.ForeignKey(Child, null=True, blank=True, on_delete=models.PROTECT, related_name="faces",
                              help_text="The tagged child whose face this is, as staff said.")
    blur = models.BooleanField(
        default=False, help_text="Leadership chose to blur this face in every copy that leaves the app."
    )

    history = history()

    class Meta:
        ordering = ["image", "number"]
        constraints = [
            models.UniqueConstraint(fields=["image", "number"], name="one_face_number_per_image"),
            models.CheckConstraint(
                condition=Q(marking="child", child__isnull=False) | (~Q(marking="child") & Q(child__isnull=True)),
                name="face_child_only_when_marked_child",
            ),
        ]

    def __str__(self) -> str:
        return f"Face {self.number} in photo {self.image_id}"

    @property
    def accounted_for(self) -> bool:
        # A face blurred in every copy identifies nobody, whoever it is.
        return bool(self.marking) or self.blur


class Publication(models.Model):
    """The record of a post going out on one channel, and of its removal."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="publications")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="publications")
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    url = models.URLField(blank=True, max_length=500)
    external_id = models.CharField(max_length=128, blank=True, help_text="The platform's id of the post.")
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    blurred_children = models.ManyToManyField(
        Child, blank=True, related_name="+",
        help_text="Children pictured whose every face was blurred in the copy this channel was sent.",
    )

    history = history()

    class Meta:
        ordering = ["-published_at"]
        constraints = [models.UniqueConstraint(fields=["post", "channel"], name="one_publication_per_channel")]
        indexes = [models.Index(fields=["channel", "external_id"])]

    def __str__(self) -> str:
        return f"{self.post} on {self.channel.name}"


class Takedown(models.Model):
    """A published post that pictures a child whose consent was withdrawn: leadership must remove it."""

    nursery = models.ForeignKey(Nursery, on_delete=models.CASCADE, related_name="takedowns")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="takedowns")
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="takedowns")
    scope = models.CharField(max_length=16, choices=Scope.choices)
    reason = models.TextField()
    opened_at = models.DateTimeField()
    deadline = models.DateTimeField()
    next_escalation_at = models.DateTimeField(help_text="When leadership is next told it is overdue.")
    escalations = models.PositiveIntegerField(default=0)
    last_escalated_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmation_note = models.TextField(blank=True)
    # A leader asked for the removal, and channels published through the Graph API are deleted in the background:
    # the takedown is confirmed (in the requester's name) only once the platform says the post is gone.
    removal_requested_at = models.DateTimeField(null=True, blank=True)
    removal_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removal_note = models.TextField(blank=True)

    history = history()

    class Meta:
        ordering = ["deadline", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "child", "scope"], condition=Q(confirmed_at__isnull=True),
                name="one_open_takedown_per_post_child_scope",
            )
        ]
        indexes = [models.Index(fields=["nursery", "confirmed_at", "deadline"])]

    def __str__(self) -> str:
        return f"Take down {self.post} ({self.child})"

    @property
    def is_open(self) -> bool:
        return self.confirmed_at is None

    def is_overdue(self, now) -> bool:
        return self.is_open and self.deadline <= now


# Publishing through the Graph API (issue 7): connections and deliveries, kept in their own module.
from posts.meta.models import ChannelConnection, ConnectionStatus, DeliveryState, GraphDelivery  # noqa: E402, F401
