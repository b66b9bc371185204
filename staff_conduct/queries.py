"""Read-side queries for pages and tasks; each costs a fixed number of queries however much data there is."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value
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
    ConfidentialReporter,
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

    @property
    def name(self) -> str:
        return self.user.get_full_name() or self.user.username

    @property
    def role_labels(self) -> str:
        return ", ".join(ROLE_WORDS.get(role, "Parent / carer") for role in self.roles)


# How the status page names each role (a parent's is the default).
ROLE_WORDS = {"leadership": "Leadership", "safeguarding_lead": "Safeguarding lead", "staff": "Practitioner"}


@dataclass
class PolicyStatus:
    """One kind of policy: its current version and how many of its audience have acknowledged it."""

    kind: str
    label: str
    version: PolicyVersion | None
    audience: int
    acknowledged: int
    page: Page | None = None  # of StatusRow, when the page lists people
    previous_query: str = ""  # the page's links: each kind pages on its own
    next_query: str = ""

    @property
    def outstanding(self) -> int:
        return self.audience - self.acknowledged

    @property
    def rows(self) -> list[StatusRow]:
        return list(self.page) if self.page is not None else []


STATUS_PAGE_SIZE = 50
STATUS_CHUNK = 1000  # people per batch of the CSV export


def _audience(nursery_id: int, kind: str) -> QuerySet:
    """Active users holding a role that must acknowledge ``kind`` here (EXISTS: no duplicate rows to remove)."""
    return get_user_model().objects.filter(
        Exists(Membership.objects.filter(user=OuterRef("pk"), nursery_id=nursery_id, role__in=AUDIENCE[kind])),
        is_active=True,
    )


def _acknowledged(version: PolicyVersion | None) -> Exists | Value:
    if version is None:
        return Value(False)
    return Exists(Acknowledgement.objects.filter(version=version, user=OuterRef("pk")))


class _Count(Subquery):
    """The number of rows of a queryset, as an expression: several counts read in one query."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _rows)"
    output_field = IntegerField()


def _member_ids(nursery_id: int, kind: str) -> QuerySet:
    """The ids of the audience of ``kind``, read off the memberships' (nursery, role, user) index; the few
    inactive users are taken out through a partial index (an anti-join, not a lookup a member)."""
    inactive = get_user_model().objects.filter(pk=OuterRef("user_id"), is_active=False)
    return (Membership.objects.filter(nursery_id=nursery_id, role__in=AUDIENCE[kind]).filter(~Exists(inactive))
            .order_by().values("user_id"))


def acknowledgement_status(nursery: Nursery, *, today: date | None = None) -> list[PolicyStatus]:
    """Each kind of policy with its counts, in two queries however many people (no rows): the versions,
    then every kind's audience and acknowledgements counted together on the narrow tables."""
    versions = current_versions(nursery, today=today)
    counts = {}
    for kind in PolicyKind.values:
        members = _member_ids(nursery.pk, kind)
        counts[f"{kind}_audience"] = _Count(members.distinct())
        version = versions.get(kind)
        counts[f"{kind}_acknowledged"] = _Count(
            Acknowledgement.objects.filter(version=version, user_id__in=members).order_by().values("user_id")
        ) if version else Value(0)
    found = Nursery.objects.filter(pk=nursery.pk).values(**counts).get()
    return [PolicyStatus(kind=kind, label=label, version=versions.get(kind), audience=found[f"{kind}_audience"],
                         acknowledged=found[f"{kind}_acknowledged"]) for kind, label in PolicyKind.choices]


NAME_ORDER = ("last_name", "first_name", "username", "pk")


def status_people(nursery: Nursery, status: PolicyStatus, *, acknowledged: bool, search: str = "") -> QuerySet:
    """Those of the audience of one policy who have (or have not) acknowledged it, by name.

    Each half is read in name order on its own (an index on the users' names serves it, so a page stops
    after its 50 rows) where ordering the whole audience by "acknowledged, then name" sorted every row.
    """
    ack = _acknowledged(status.version)
    people = _audience(nursery.pk, status.kind).filter(ack if acknowledged else ~ack)
    for word in search.split()[:5]:
        people = people.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(username__icontains=word)
        )
    return people.only("first_name", "last_name", "username").order_by(*NAME_ORDER)


class _OneAfterTheOther:
    """Two ordered querysets whose sizes are known, read by a Paginator as one list: a page slices one or
    both with LIMIT/OFFSET (those still to acknowledge first: that is what the page is opened for)."""

    def __init__(self, first: QuerySet, first_count: int, second: QuerySet | None, second_count: int):
        self.first, self.first_count, self.second, self.second_count = first, first_count, second, second_count

    def count(self) -> int:
        return self.first_count + self.second_count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, part: slice) -> list:
        start, stop = part.start or 0, part.stop if part.stop is not None else self.count()
        rows = list(self.first[start:min(stop, self.first_count)]) if start < self.first_count else []
        if self.second is not None and stop > self.first_count:
            rows += list(self.second[max(start - self.first_count, 0):stop - self.first_count])
        return rows


def status_rows(nursery: Nursery, version: PolicyVersion | None, people: list) -> list[StatusRow]:
    """The rows for these people: their acknowledgement, reminders and roles, in three queries."""
    return statuses_rows(nursery, [(version, people)])[0]


def statuses_rows(nursery: Nursery, groups: list[tuple[PolicyVersion | None, list]]) -> list[list[StatusRow]]:
    """The rows of several policies' pages at once (each a version and its people), in three queries."""
    wanted = Q(pk__in=[])
    for version, people in groups:
        if version is not None and people:
            wanted |= Q(version=version, user_id__in=[person.pk for person in people])
    acknowledgements = {(a.version_id, a.user_id): a for a in Acknowledgement.objects.filter(wanted)
                        .only("version_id", "user_id", "signature", "acknowledged_at")}
    chases = {
        (c["version_id"], c["user_id"]): c
        for c in AcknowledgementChase.objects.filter(wanted)
        .values("version_id", "user_id")
        .annotate(
            reminders=Count("pk", filter=Q(kind=ChaseKind.REMINDER)),
            last=Max("sent_at", filter=Q(kind=ChaseKind.REMINDER)),
            reported=Count("pk", filter=Q(kind=ChaseKind.REPORTED)),
        )
    }
    ids = {person.pk for _, people in groups for person in people}
    roles: dict[int, list[str]] = {}
    for user_id, role in Membership.objects.filter(nursery=nursery, user_id__in=ids).values_list("user_id", "role"):
        roles.setdefault(user_id, []).append(role)
    result = []
    for version, people in groups:
        rows = []
        for person in people:
            key = (version.pk if version else None, person.pk)
            chase = chases.get(key, {})
            rows.append(StatusRow(
                user=person, roles=roles.get(person.pk, []), acknowledgement=acknowledgements.get(key),
                reminders=chase.get("reminders", 0), last_reminded_at=chase.get("last"),
                reported_to_leadership=bool(chase.get("reported")),
            ))
        result.append(rows)
    return result


def acknowledgement_pages(nursery: Nursery, *, pages: dict[str, str | None], outstanding_only: bool = False,
                          search: str = "", today: date | None = None) -> list[PolicyStatus]:
    """Each kind with one page of its people (``pages`` maps a kind to its page number), fixed queries."""
    statuses = acknowledgement_status(nursery, today=today)
    shown = [status for status in statuses if status.version is not None]
    for status in shown:
        outstanding = status_people(nursery, status, acknowledged=False, search=search)
        done = None if outstanding_only else status_people(nursery, status, acknowledged=True, search=search)
        if search:  # how many match: both halves counted in one query
            found = Nursery.objects.filter(pk=nursery.pk).values(
                outstanding=_Count(outstanding.order_by().values("pk")),
                done=Value(0) if done is None else _Count(done.order_by().values("pk"))).get()
            counts = found["outstanding"], found["done"]
        else:  # counted already
            counts = status.outstanding, 0 if outstanding_only else status.acknowledged
        status.page = Paginator(_OneAfterTheOther(outstanding, counts[0], done, counts[1]),
                                STATUS_PAGE_SIZE).get_page(pages.get(status.kind))
    rows = statuses_rows(nursery, [(status.version, list(status.page.object_list)) for status in shown])
    for status, page_rows in zip(shown, rows, strict=True):
        status.page.object_list = page_rows
    return statuses


def all_status_rows(nursery: Nursery, *, today: date | None = None):
    """Every (status, row) of every kind, ``STATUS_CHUNK`` people at a time, for the streamed export."""
    for status in acknowledgement_status(nursery, today=today):
        ids = list(_audience(nursery.pk, status.kind).annotate(acked=_acknowledged(status.version))
                   .order_by("acked", *NAME_ORDER).values_list("pk", flat=True))
        for start in range(0, len(ids), STATUS_CHUNK):
            part = ids[start:start + STATUS_CHUNK]
            by_id = get_user_model().objects.only("first_name", "last_name", "username").in_bulk(part)
            for row in status_rows(nursery, status.version, [by_id[pk] for pk in part]):
                yield status, row


# --- Incidents -----------------------------------------------------------------------------------


def incidents_for(user, nursery: Nursery) -> QuerySet[Incident]:
    """Incidents ``user`` may see: leadership only, and never one about themselves."""
    if not is_leader(user, nursery):
        return Incident.objects.none()
    return Incident.objects.filter(nursery=nursery).exclude(subject=user)


def incident_list(user, nursery: Nursery, *, status: str = "", clause: int | None = None,
                  subject: int | None = None) -> QuerySet:
    """The incidents ``user`` may see that match the filters, on the incidents table alone, in the list's order
    (the ``incident_list_order`` index): what a page's ids and its count are read from."""
    incidents = incidents_for(user, nursery)
    if status == "open":
        incidents = incidents.filter(status__in=OPEN_STATUSES)
    elif status:
        incidents = incidents.filter(status=status)
    if clause:
        # An incident cites a clause at most once, so this join adds no duplicate rows.
        incidents = incidents.filter(clauses=clause)
    if subject:
        incidents = incidents.filter(subject=subject)
    return incidents.order_by("-reported_at", "-id")


PERSON_FIELDS = ("first_name", "last_name", "username")
INCIDENT_ROW_FIELDS = (
    "nursery_id", "subject_id", "source", "reported_by_id", "reported_at", "status", "investigator_id",
    "investigation_due_on", "outcome", "appeal_decision", "varied_outcome",
    *(f"{person}__{field}" for person in ("subject", "investigator", "reported_by") for field in PERSON_FIELDS),
)


def incident_rows(nursery: Nursery) -> QuerySet:
    """What each row of the incident list shows, and no more: people by name, not their whole user rows."""
    return (
        Incident.objects.filter(nursery=nursery)
        .select_related("subject", "investigator", "reported_by")
        .only(*INCIDENT_ROW_FIELDS)
    )


def dress_incidents(user, nursery: Nursery, incidents: list[Incident]) -> None:
    """What a page of incidents shows beyond their rows, in two queries at most however many:

    ``cited``, the clauses each cites (version, number, text), read from the join table in one query where
    ``prefetch_related`` built a model per clause and per version; and ``reporter_label`` (whistleblowers'
    names, for the whistleblowing officer only, in one more query rather than two per report).
    """
    cited: dict[int, list[dict]] = {}
    for row in (Incident.clauses.through.objects.filter(incident_id__in=[i.pk for i in incidents])
                .values("incident_id", "policyclause__number", "policyclause__text", "policyclause__version__version")
                .order_by("policyclause__version__version", "policyclause__number")):
        cited.setdefault(row["incident_id"], []).append({
            "number": row["policyclause__number"], "text": row["policyclause__text"],
            "version": row["policyclause__version__version"]})
    for incident in incidents:
        incident.cited = cited.get(incident.pk, [])
        incident.nursery = nursery  # the page's nursery: can_see_reporter reads its whistleblowing officer
    confidential = [i.pk for i in incidents if i.source == Source.WHISTLEBLOWING and can_see_reporter(user, i)]
    if confidential:
        reporters = {c.incident_id: c for c in ConfidentialReporter.objects.filter(incident_id__in=confidential)
                     .select_related("reporter")}
        for incident in incidents:
            if incident.pk in reporters:
                incident.confidential_reporter = reporters[incident.pk]
    for incident in incidents:
        incident.reporter_label = reporter_label(user, incident)


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
