"""Read-side queries for pages and tasks; each costs a fixed number of queries however much data there is."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from nursery.models import Membership, Nursery
from nursery.permissions import is_leader
from staff_conduct.clock import local_date
from staff_conduct.models import (
    AUDIENCE,
    OPEN_STATUSES,
    Acknowledgement,
    AcknowledgementChase,
    ChaseKind,
    Incident,
    PolicyClause,
    PolicyKind,
    PolicyVersion,
    Source,
)


def current_versions(nursery: Nursery | int, *, today: date | None = None) -> dict[str, PolicyVersion]:
    """The version of each kind of policy in force today: the newest one whose effective date has come."""
    today = today or timezone.localdate()
    nursery_id = nursery if isinstance(nursery, int) else nursery.pk
    versions = (
        PolicyVersion.objects.filter(document__nursery_id=nursery_id, effective_on__lte=today)
        .select_related("document", "published_by")
        .order_by("document__kind", "-version")
    )
    current: dict[str, PolicyVersion] = {}
    for version in versions:
        current.setdefault(version.document.kind, version)
    return current


def current_version(nursery: Nursery | int, kind: str, *, today: date | None = None) -> PolicyVersion | None:
    return current_versions(nursery, today=today).get(kind)


def kinds_for(roles) -> list[str]:
    """The kinds of policy that someone with ``roles`` must acknowledge."""
    return [kind for kind in PolicyKind.values if AUDIENCE[kind] & set(roles)]


def outstanding_for(user, nursery: Nursery, roles, *, today: date | None = None) -> list[PolicyVersion]:
    """Current versions ``user`` still has to acknowledge (shown first on their home page)."""
    kinds = kinds_for(roles)
    if not kinds:
        return []
    versions = [v for kind, v in current_versions(nursery, today=today).items() if kind in kinds]
    done = set(
        Acknowledgement.objects.filter(user=user, version__in=versions).values_list("version_id", flat=True)
    )
    return [v for v in versions if v.pk not in done]


def audience_members(nursery: Nursery | int, kind: str) -> QuerySet:
    nursery_id = nursery if isinstance(nursery, int) else nursery.pk
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__nursery_id=nursery_id, memberships__role__in=AUDIENCE[kind])
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


@dataclass
class StatusRow:
    user: object
    roles: list[str]
    acknowledgement: Acknowledgement | None
    reminders: int
    last_reminded_at: datetime | None
    reported_to_leadership: bool


@dataclass
class PolicyStatus:
    kind: str
    label: str
    version: PolicyVersion | None
    rows: list[StatusRow]

    @property
    def acknowledged(self) -> int:
        return sum(1 for row in self.rows if row.acknowledgement)

    @property
    def outstanding(self) -> int:
        return len(self.rows) - self.acknowledged


def acknowledgement_status(nursery: Nursery, *, today: date | None = None) -> list[PolicyStatus]:
    """Who has and has not acknowledged each current version: five queries, whatever the numbers."""
    versions = current_versions(nursery, today=today)
    version_ids = [v.pk for v in versions.values()]
    acknowledgements = {
        (a.version_id, a.user_id): a for a in Acknowledgement.objects.filter(version_id__in=version_ids)
    }
    chases = {
        (c["version_id"], c["user_id"]): c
        for c in AcknowledgementChase.objects.filter(version_id__in=version_ids)
        .values("version_id", "user_id")
        .annotate(
            reminders=Count("pk", filter=Q(kind=ChaseKind.REMINDER)),
            last=Max("sent_at", filter=Q(kind=ChaseKind.REMINDER)),
            reported=Count("pk", filter=Q(kind=ChaseKind.REPORTED)),
        )
    }
    roles: dict[int, list[str]] = {}
    for user_id, role in Membership.objects.filter(nursery=nursery).values_list("user_id", "role"):
        roles.setdefault(user_id, []).append(role)
    people = list(
        get_user_model().objects.filter(is_active=True, memberships__nursery=nursery).distinct()
        .order_by("last_name", "first_name", "username")
    )
    statuses = []
    for kind, label in PolicyKind.choices:
        version = versions.get(kind)
        rows = []
        for person in people:
            if not AUDIENCE[kind] & set(roles.get(person.pk, ())):
                continue
            key = (version.pk if version else None, person.pk)
            chase = chases.get(key, {})
            rows.append(StatusRow(
                user=person, roles=roles[person.pk], acknowledgement=acknowledgements.get(key),
                reminders=chase.get("reminders", 0), last_reminded_at=chase.get("last"),
                reported_to_leadership=bool(chase.get("reported")),
            ))
        # Who still has to acknowledge comes first: that is what the page is opened for.
        rows.sort(key=lambda row: row.acknowledgement is not None)
        statuses.append(PolicyStatus(kind=kind, label=label, version=version, rows=rows))
    return statuses


# --- Incidents -----------------------------------------------------------------------------------


def incidents_for(user, nursery: Nursery) -> QuerySet[Incident]:
    """Incidents ``user`` may see: leadership only, and never one about themselves."""
    if not is_leader(user, nursery):
        return Incident.objects.none()
    return Incident.objects.filter(nursery=nursery).exclude(subject=user)


def incident_list(user, nursery: Nursery, *, status: str = "", clause: str = "", subject: str = "") -> QuerySet:
    incidents = incidents_for(user, nursery).select_related("subject", "investigator", "reported_by")
    if status == "open":
        incidents = incidents.filter(status__in=OPEN_STATUSES)
    elif status:
        incidents = incidents.filter(status=status)
    if clause:
        # An incident cites a clause at most once, so this join adds no duplicate rows.
        incidents = incidents.filter(clauses=clause)
    if subject:
        incidents = incidents.filter(subject=subject)
    return incidents.prefetch_related(Prefetch("clauses", queryset=PolicyClause.objects.select_related("version")))


def staff_clauses(nursery: Nursery) -> QuerySet[PolicyClause]:
    """Clauses of every version of the staff policy, newest version first (incidents cite older ones too)."""
    return (
        PolicyClause.objects.filter(version__document__nursery=nursery, version__document__kind=PolicyKind.STAFF)
        .select_related("version")
        .order_by("-version__version", "number")
    )


def staff_members(nursery: Nursery) -> QuerySet:
    return audience_members(nursery, PolicyKind.STAFF)


def long_open_incidents(user, nursery: Nursery, *, now: datetime | None = None, days: int = 30) -> QuerySet:
    """Open incidents reported more than ``days`` ago, oldest first, for the leadership home page."""
    now = now or timezone.now()
    return (
        incidents_for(user, nursery)
        .filter(status__in=OPEN_STATUSES, reported_at__lt=now - timedelta(days=days))
        .select_related("subject", "investigator")
        .order_by("reported_at")
    )


def can_see_reporter(user, incident: Incident) -> bool:
    """Named reporters are seen by leadership; a whistleblower only by the whistleblowing officer."""
    if incident.source == Source.NAMED:
        return True
    if incident.source == Source.WHISTLEBLOWING:
        return user.pk is not None and incident.nursery.whistleblowing_officer_id == user.pk
    return False


def reporter_label(user, incident: Incident) -> str:
    if incident.source == Source.ANONYMOUS:
        return "Anonymous"
    if incident.source == Source.WHISTLEBLOWING:
        if can_see_reporter(user, incident):
            reporter = incident.confidential_reporter.reporter
            return f"{reporter.get_full_name() or reporter.username} (whistleblowing; only you can see this)"
        return "Confidential (whistleblowing)"
    if incident.reported_by is None:
        return ""
    return incident.reported_by.get_full_name() or incident.reported_by.username


def today_local(now: datetime | None = None) -> date:
    return local_date(now or timezone.now())
