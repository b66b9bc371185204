"""Each kind of personal data the retention task removes: what starts its clock, what holds it back.

A kind answers one question, ``candidates(nursery, now, period, holds)``: the rows whose retention
period has run out by ``now`` (the leadership page asks with ``now`` 30 days ahead), legal holds already
left out. ``retention.services`` removes them, in batches, with their files and history, through
``Kind.remove_plan``: what else goes with each row. A kind never deletes anything itself.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone

from consent.models import ConsentDecision, ConsentRequest
from moderation.models import Action, Comment, Concern, ItemStatus, ModerationItem, WebhookDelivery
from nursery.models import Notification, Nursery
from people.models import Invitation
from posts.models import PostImage, Takedown
from retention.models import SubjectAccessRequest
from staff_conduct.models import (
    ConfidentialReporter,
    Evidence,
    Incident,
    IncidentEscalation,
    InvestigationNote,
    Status,
)


@dataclass(frozen=True)
class Holds:
    """The ids of what active legal holds protect, in the nursery being swept."""

    children: frozenset[int] = frozenset()
    people: frozenset[int] = frozenset()
    incidents: frozenset[int] = frozenset()


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day when it is shorter: 31 March - 1 = 28 Feb)."""
    import calendar

    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Part:
    """Rows of another model that go with each removed row (``lookup`` names the removed row's pk)."""

    model: type[Model]
    lookup: str
    file_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    model: type[Model]
    # The RetentionSchedule field giving the period, or None for records of no nursery (a setting).
    period_field: str | None
    unit: str  # "days", "months" or "years"
    starts: str  # what starts the clock, in words (the leadership page and README say it)
    file_fields: tuple[str, ...] = ()
    # Removed first, in this order, because they point at the row with PROTECT.
    parts: tuple[Part, ...] = ()
    # Models whose history rows copy a removed row or its cascade, and the lookup to the removed row's pk.
    histories: tuple[tuple[type[Model], str], ...] = ()
    # When set, a due row is kept with these values (its files removed) instead of deleted.
    clears: tuple[tuple[str, object], ...] = ()
    # Swept once per nursery, and/or once for the records that belong to no nursery.
    nursery_pass: bool = True
    deployment_pass: bool = False

    def period(self, schedule) -> int:
        if self.period_field is None:
            return settings.RETENTION_WEBHOOK_DAYS
        return getattr(schedule, self.period_field)

    def since(self, now: datetime, period: int) -> datetime:
        """The latest moment a clock may have started for its row to be due at ``now``."""
        if self.unit == "days":
            return now - timedelta(days=period)
        local = timezone.localtime(now)
        months = period * 12 if self.unit == "years" else period
        return local.replace(**{f: getattr(months_before(local.date(), months), f) for f in ("year", "month", "day")})

    def last_day(self, now: datetime, period: int) -> date:
        """For clocks that start on a date (a child's leaving day): the latest such date now due."""
        return timezone.localdate(self.since(now, period))

    def candidates(self, nursery: Nursery | None, now: datetime, period: int, holds: Holds) -> QuerySet:
        raise NotImplementedError


def _without(rows: QuerySet, ids: frozenset[int], *lookups: str) -> QuerySet:
    if not ids:
        return rows
    for lookup in lookups:
        rows = rows.exclude(**{f"{lookup}__in": ids})
    return rows


# --- notifications and webhook deliveries ----------------------------------------------------------


class NotificationKind(Kind):
    def candidates(self, nursery, now, period, holds):
        # Notifications of no nursery (rare: account messages) are swept in the deployment-wide pass.
        rows = Notification.objects.filter(created_at__lte=self.since(now, period))
        rows = rows.filter(nursery=nursery) if nursery else rows.filter(nursery__isnull=True)
        return _without(rows, holds.people, "recipient_id")


class WebhookDeliveryKind(Kind):
    def candidates(self, nursery, now, period, holds):
        # A delivery never processed is a fault to look into, not data past its use: it stays.
        return WebhookDelivery.objects.filter(received_at__lte=self.since(now, period)).exclude(
            status=WebhookDelivery.Status.RECEIVED
        )


# --- photos ----------------------------------------------------------------------------------------


def _photos(nursery: Nursery, holds: Holds) -> QuerySet:
    return _without(PostImage.objects.filter(post__nursery=nursery), holds.children, "children")


class PhotosAfterLeavingKind(Kind):
    def candidates(self, nursery, now, period, holds):
        # The child left on a date: the photo goes on the day the period ends, whatever the hour.
        rows = _photos(nursery, holds).filter(children__left_on__lte=self.last_day(now, period))
        return _without(rows, holds.people, "post__author_id").distinct()


class PhotosAfterTakedownKind(Kind):
    def candidates(self, nursery, now, period, holds):
        # A photo goes only if the child whose consent was withdrawn is pictured in it, once the
        # removal of the post from the platform was confirmed that long ago.
        removed = Takedown.objects.filter(
            post=OuterRef("post"), child__pictured_in=OuterRef("pk"), confirmed_at__lte=self.since(now, period),
        )
        return _without(_photos(nursery, holds).filter(Exists(removed)), holds.people, "post__author_id")


# --- consent ---------------------------------------------------------------------------------------


class ConsentDecisionKind(Kind):
    def candidates(self, nursery, now, period, holds):
        rows = ConsentDecision.objects.filter(nursery=nursery, child__left_on__lte=self.last_day(now, period))
        rows = _without(rows, holds.children, "child_id")
        return _without(rows, holds.people, "guardian_id", "recorded_by_id")


class ConsentRequestKind(Kind):
    def candidates(self, nursery, now, period, holds):
        rows = ConsentRequest.objects.filter(nursery=nursery, child__left_on__lte=self.last_day(now, period))
        return _without(_without(rows, holds.children, "child_id"), holds.people, "recipient_id")


# --- comments and concerns -------------------------------------------------------------------------


class ModerationKind(Kind):
    """Comments or concerns whose moderation item was resolved that long ago, escalated or not."""

    escalated: bool = False

    def candidates(self, nursery, now, period, holds):
        item = "moderation_item__"
        rows = self.model.objects.filter(**{
            "nursery": nursery, f"{item}status": ItemStatus.RESOLVED,
            f"{item}resolved_at__lte": self.since(now, period),
        })
        action = Q(**{f"{item}action": Action.ESCALATE})
        rows = rows.filter(action) if self.escalated else rows.exclude(action)
        people = [f"{item}claimed_by_id", f"{item}resolved_by_id"]
        if self.model is Comment:
            rows = _without(rows, holds.children, "post__images__children")
            people.append("entered_by_id")
        else:
            people.append("raised_by_id")
        return _without(rows, holds.people, *people).distinct()


class EscalatedModerationKind(ModerationKind):
    escalated = True


# --- staff conduct ---------------------------------------------------------------------------------


class IncidentKind(Kind):
    def candidates(self, nursery, now, period, holds):
        rows = Incident.objects.filter(nursery=nursery, status=Status.CLOSED, closed_at__lte=self.since(now, period))
        rows = rows.exclude(pk__in=holds.incidents) if holds.incidents else rows
        rows = _without(rows, holds.people, "subject_id", "reported_by_id", "investigator_id",
                        "confidential_reporter__reporter_id")
        return rows


class InvitationKind(Kind):
    def candidates(self, nursery, now, period, holds):
        since = self.since(now, period)
        # Finished: accepted, revoked, or expired with no new link waiting to be sent.
        finished = Q(accepted_at__lte=since) | Q(revoked_at__lte=since) | Q(
            accepted_at__isnull=True, revoked_at__isnull=True, send_pending=False, expires_at__lte=since
        )
        rows = Invitation.objects.filter(finished, nursery=nursery)
        return _without(rows, holds.people, "user_id", "invited_by_id")


class AccessExportKind(Kind):
    def candidates(self, nursery, now, period, holds):
        rows = SubjectAccessRequest.objects.filter(
            nursery=nursery, status=SubjectAccessRequest.Status.READY, built_at__lte=self.since(now, period)
        )
        return _without(rows, holds.people, "subject_id")


PHOTO_FILES = ("image", "thumbnail")
NOTIFICATIONS = NotificationKind(
    "notifications", "In-app notifications", Notification, "notifications_days", "days", "sent",
    deployment_pass=True,
)
WEBHOOK_DELIVERIES = WebhookDeliveryKind(
    "webhook_deliveries", "Raw webhook deliveries from Facebook and Instagram", WebhookDelivery, None, "days",
    "received (once processed)", nursery_pass=False, deployment_pass=True,
)
PHOTOS_AFTER_LEAVING = PhotosAfterLeavingKind(
    "photos_after_leaving", "Photos picturing a child who has left", PostImage, "photos_after_leaving_days",
    "days", "the child left", file_fields=PHOTO_FILES, histories=((PostImage, "id"),),
)
PHOTOS_AFTER_TAKEDOWN = PhotosAfterTakedownKind(
    "photos_after_takedown", "Photos taken down after consent was withdrawn", PostImage,
    "photos_after_takedown_days", "days", "the takedown was confirmed", file_fields=PHOTO_FILES,
    histories=((PostImage, "id"),),
)
CONSENT_DECISIONS = ConsentDecisionKind(
    "consent_decisions", "Consent decisions and paper scans of a child who has left", ConsentDecision,
    "consent_years", "years", "the child left", file_fields=("paper_scan",), histories=((ConsentDecision, "id"),),
)
CONSENT_REQUESTS = ConsentRequestKind(
    "consent_requests", "Consent requests and reminders sent about a child who has left", ConsentRequest,
    "consent_years", "years", "the child left", histories=((ConsentRequest, "id"),),
)
_COMMENT_HISTORIES = ((Comment, "id"), (ModerationItem, "comment_id"))
_CONCERN_HISTORIES = ((Concern, "id"), (ModerationItem, "concern_id"))
COMMENTS = ModerationKind(
    "comments", "Comments and their moderation", Comment, "comments_months", "months",
    "the moderation item was resolved", histories=_COMMENT_HISTORIES,
)
CONCERNS = ModerationKind(
    "concerns", "Concerns raised (and their screenshots)", Concern, "concerns_years", "years",
    "the concern was resolved", file_fields=("screenshot",), histories=_CONCERN_HISTORIES,
)
SAFEGUARDING_COMMENTS = EscalatedModerationKind(
    "safeguarding_comments", "Comments escalated as a safeguarding concern", Comment, "safeguarding_years",
    "years", "the moderation item was resolved", histories=_COMMENT_HISTORIES,
)
SAFEGUARDING_CONCERNS = EscalatedModerationKind(
    "safeguarding_concerns", "Concerns escalated as a safeguarding concern", Concern, "safeguarding_years",
    "years", "the concern was resolved", file_fields=("screenshot",), histories=_CONCERN_HISTORIES,
)
INCIDENTS = IncidentKind(
    "incidents", "Staff conduct incidents, notes and evidence", Incident, "incidents_years", "years",
    "the incident was closed",
    parts=(
        Part(Evidence, "incident_id", file_fields=("file",)),
        Part(InvestigationNote, "incident_id"),
        Part(IncidentEscalation, "incident_id"),
        Part(ConfidentialReporter, "incident_id"),
    ),
    histories=((Incident, "id"), (Evidence, "incident_id"), (InvestigationNote, "incident_id"),
               (IncidentEscalation, "incident_id")),
)

INVITATIONS = InvitationKind(
    "invitations", "Invitations to the app, once answered or expired", Invitation, "invitations_days", "days",
    "the invitation was accepted, revoked or expired", histories=((Invitation, "id"),),
)
ACCESS_EXPORTS = AccessExportKind(
    "access_exports", "Subject access ZIP files (the request is kept)", SubjectAccessRequest,
    "access_exports_days", "days", "the ZIP was built", file_fields=("file",),
    clears=(("file", ""), ("status", SubjectAccessRequest.Status.EXPIRED)),
)

# In the order a run sweeps them.
KINDS: tuple[Kind, ...] = (
    NOTIFICATIONS, WEBHOOK_DELIVERIES, PHOTOS_AFTER_LEAVING, PHOTOS_AFTER_TAKEDOWN, CONSENT_DECISIONS,
    CONSENT_REQUESTS, COMMENTS, CONCERNS, SAFEGUARDING_COMMENTS, SAFEGUARDING_CONCERNS, INCIDENTS, INVITATIONS,
    ACCESS_EXPORTS,
)
BY_NAME = {kind.name: kind for kind in KINDS}
