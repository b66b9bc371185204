"""The audit trail of governance records for a period: when, who, what, the change and the reason.

Every governance model keeps a django-simple-history table (``nursery.audit.history``). This module reads
those tables for one nursery and one period, in time order across all of them, and describes each row
against the version before it. Rows are read in chunks (keyset pagination), and each chunk costs a fixed
number of queries (the rows with the id of their previous version, the previous versions, the names), so
an export of a year streams in constant memory.

Confidentiality follows the pages: a leader never sees the record of an incident about themselves, and a
whistleblower's name appears only for the nursery's whistleblowing officer (from ``ConfidentialReporter``,
which has no history of its own). Encrypted fields (platform tokens) are never in history to begin with.
"""

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from consent.models import ConsentDecision, ConsentRequest, ConsentWording
from inspection.models import InspectionPack, PackDownload
from moderation.models import Comment, Concern, ModerationItem, ScreeningRule
from nursery.crypto import EncryptedTextField
from nursery.models import Child, Guardianship, Membership, Nursery, Room
from posts.models import Channel, ChannelConnection, Occasion, Post, PostImage, Publication, Takedown
from staff_conduct.models import (
    Acknowledgement,
    AcknowledgementChase,
    ConfidentialReporter,
    Evidence,
    Incident,
    IncidentEscalation,
    InvestigationNote,
    PolicyClause,
    PolicyDocument,
    PolicyVersion,
    Source,
)

CHUNK = 1000
ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}
HEADER = ["When (Europe/London)", "Who", "Action", "Record", "Record id", "Changes", "Reason"]
CONFIDENTIAL = "Confidential (whistleblowing)"


@dataclass(frozen=True)
class Period:
    """Whole local days, ``start`` to ``end`` inclusive."""

    start: date
    end: date

    @classmethod
    def last_months(cls, months: int = 12, *, today: date | None = None) -> "Period":
        """The ``months`` months up to and including today (from the same day ``months`` months ago)."""
        today = today or timezone.localdate()
        year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
        return cls(_same_day(year, month + 1, today.day), today)

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_at(self) -> datetime:
        """The first moment after the period."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def __str__(self) -> str:
        return f"{self.start:%-d %b %Y} to {self.end:%-d %b %Y}"


def _same_day(year: int, month: int, day: int) -> date:
    """That day of the month, or the month's last day (29 February a year later is 28 February)."""
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def _incidents_about(user, nursery_id: int) -> QuerySet:
    return Incident.objects.filter(nursery_id=nursery_id, subject_id=user.pk).values("pk")


def _not_about_me(path: str) -> Callable:
    """A leader never reads the record of an incident about themselves (nor its notes, evidence, escalations)."""

    def restrict(rows: QuerySet, user, nursery_id: int) -> QuerySet:
        return rows.exclude(**{f"{path}__in": _incidents_about(user, nursery_id)})

    return restrict


def _reporter_labels(rows: list, user, nursery: Nursery, incident_of: Callable, unnamed: Callable) -> dict[int, str]:
    """The 'who' of rows written as nobody because a confidential report made them."""
    wanted = {row.history_id: incident_of(row) for row in rows if row.history_type == "+" and unnamed(row)}
    if not wanted:
        return {}
    sources = dict(Incident.objects.filter(pk__in=set(wanted.values())).values_list("pk", "source"))
    names = {}
    if nursery.whistleblowing_officer_id == user.pk:
        reporters = ConfidentialReporter.objects.filter(incident_id__in=set(wanted.values())).select_related("reporter")
        names = {c.incident_id: c.reporter.get_full_name() or c.reporter.username for c in reporters}
    labels = {}
    for history_id, incident_id in wanted.items():
        if sources.get(incident_id) == Source.ANONYMOUS:
            labels[history_id] = "Anonymous"
        elif sources.get(incident_id) == Source.WHISTLEBLOWING:
            name = names.get(incident_id)
            labels[history_id] = f"{name} (whistleblowing reporter)" if name else CONFIDENTIAL
    return labels


def _incident_reporters(rows, user, nursery):
    return _reporter_labels(rows, user, nursery, lambda r: r.id, lambda r: r.reported_by_id is None)


def _evidence_uploaders(rows, user, nursery):
    return _reporter_labels(rows, user, nursery, lambda r: r.incident_id, lambda r: r.uploaded_by_id is None)


@dataclass(frozen=True)
class AuditSource:
    model: type[models.Model]
    nursery_path: str
    restrict: Callable | None = None
    who: Callable | None = None  # (rows, user, nursery) -> {history_id: label} for rows written as nobody
    skip_fields: frozenset = field(default_factory=frozenset)

    @property
    def history_model(self):
        return self.model.history.model

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name).capitalize()


SOURCES: list[AuditSource] = [
    AuditSource(Nursery, "id"),
    AuditSource(Room, "nursery_id"),
    AuditSource(Child, "nursery_id"),
    AuditSource(Guardianship, "child__nursery_id"),
    AuditSource(Membership, "nursery_id"),
    AuditSource(ConsentWording, "nursery_id"),
    AuditSource(ConsentDecision, "nursery_id"),
    AuditSource(ConsentRequest, "nursery_id"),
    AuditSource(Channel, "nursery_id"),
    AuditSource(ChannelConnection, "channel__nursery_id"),
    AuditSource(Occasion, "nursery_id"),
    AuditSource(Post, "nursery_id", skip_fields=frozenset({"updated_at"})),
    AuditSource(PostImage, "post__nursery_id"),
    AuditSource(Publication, "post__nursery_id"),
    AuditSource(Takedown, "nursery_id"),
    AuditSource(ScreeningRule, "nursery_id"),
    AuditSource(Comment, "nursery_id"),
    AuditSource(Concern, "nursery_id"),
    AuditSource(ModerationItem, "nursery_id"),
    AuditSource(PolicyDocument, "nursery_id"),
    AuditSource(PolicyVersion, "document__nursery_id"),
    AuditSource(PolicyClause, "version__document__nursery_id"),
    AuditSource(Acknowledgement, "nursery_id"),
    AuditSource(AcknowledgementChase, "version__document__nursery_id"),
    AuditSource(Incident, "nursery_id", restrict=_not_about_me("id"), who=_incident_reporters),
    AuditSource(InvestigationNote, "incident__nursery_id", restrict=_not_about_me("incident_id")),
    AuditSource(Evidence, "incident__nursery_id", restrict=_not_about_me("incident_id"), who=_evidence_uploaders),
    AuditSource(IncidentEscalation, "incident__nursery_id", restrict=_not_about_me("incident_id")),
    AuditSource(InspectionPack, "nursery_id"),
    AuditSource(PackDownload, "pack__nursery_id"),
]


@dataclass
class AuditRow:
    when: datetime
    who: str
    action: str
    record: str
    record_id: int
    changes: str
    reason: str

    def as_list(self) -> list:
        return [f"{timezone.localtime(self.when):%Y-%m-%d %H:%M:%S}", self.who, self.action, self.record,
                self.record_id, self.changes, self.reason]


class _Names:
    """Users' display names, fetched once per chunk for the ids not seen yet."""

    def __init__(self):
        self.known: dict[int, str] = {}

    def load(self, ids: Iterable[int | None]) -> None:
        missing = {i for i in ids if i is not None} - self.known.keys()
        if missing:
            for user in get_user_model().objects.filter(pk__in=missing).only("username", "first_name", "last_name"):
                self.known[user.pk] = user.get_full_name() or user.username
            self.known.update({i: f"user #{i}" for i in missing - self.known.keys()})

    def __getitem__(self, pk: int | None) -> str:
        return "" if pk is None else self.known[pk]


def _is_user_fk(f) -> bool:
    return f.is_relation and f.related_model is get_user_model()


def _fields(source: AuditSource) -> list:
    return [
        f for f in source.history_model.tracked_fields
        if f.name != "id" and f.name not in source.skip_fields and not isinstance(f, EncryptedTextField)
    ]


def _show(f, row, names: _Names) -> str:
    value = getattr(row, f.attname)
    if value is None or value == "":
        return "—"
    if _is_user_fk(f):
        return names[value]
    if f.is_relation:
        return f"#{value}"
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return str(value)


def _describe(fields, row, previous, names: _Names, m2m: dict | None = None) -> str:
    if row.history_type == "-":
        return ""
    if previous is None:
        parts = [f"{f.verbose_name}: {_show(f, row, names)}"
                 for f in fields if getattr(row, f.attname) not in (None, "")]
    else:
        parts = [f"{f.verbose_name}: {_show(f, previous, names)} → {_show(f, row, names)}"
                 for f in fields if getattr(row, f.attname) != getattr(previous, f.attname)]
    for label, (members, labels) in (m2m or {}).items():
        now = members.get(row.history_id, set())
        before = members.get(previous.history_id, set()) if previous is not None else set()
        if previous is None and now:
            parts.append(f"{label}: {', '.join(sorted(labels[i] for i in now))}")
        elif previous is not None and now != before:
            changed = [f"added {labels[i]}" for i in sorted(now - before)]
            changed += [f"removed {labels[i]}" for i in sorted(before - now)]
            parts.append(f"{label}: {', '.join(changed)}")
    return "; ".join(parts)


def _m2m_members(history, chunk, previous) -> dict[str, tuple[dict, dict]]:
    """Tracked many-to-many fields (the children in a photo, a post's channels) for a chunk: one query each,
    and one more for the names of the children among them."""
    found = {}
    ids = [r.history_id for r in chunk] + list(previous)
    for f in getattr(history, "_history_m2m_fields", []):
        through = getattr(history, f.name).model
        target = next(x for x in through._meta.fields if x.is_relation and x.related_model is f.related_model)
        members = defaultdict(set)
        for history_id, target_id in through.objects.filter(history_id__in=ids).values_list("history_id",
                                                                                            target.attname):
            members[history_id].add(target_id)
        every = set().union(*members.values()) if members else set()
        if f.related_model is Child:
            labels = {c.pk: f"{c.full_name} (#{c.pk})" for c in Child.objects.filter(pk__in=every).only(
                "first_name", "last_name")}
        else:
            labels = {}
        found[str(f.verbose_name)] = (members, defaultdict(str, {i: labels.get(i, f"#{i}") for i in every}))
    return found


def _source_rows(source: AuditSource, index: int, *, nursery: Nursery, user, period: Period,
                 names: _Names) -> Iterator[tuple]:
    history = source.history_model
    fields = _fields(source)
    user_fks = [f.attname for f in fields if _is_user_fk(f)]
    rows = history.objects.filter(
        **{source.nursery_path: nursery.pk}, history_date__gte=period.start_at, history_date__lt=period.end_at
    )
    if source.restrict:
        rows = source.restrict(rows, user, nursery.pk)
    before = history.objects.filter(id=OuterRef("id")).filter(
        Q(history_date__lt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
    ).order_by("-history_date", "-history_id").values("history_id")[:1]
    rows = rows.annotate(previous_id=Subquery(before)).order_by("history_date", "history_id")
    after = Q()
    while True:
        chunk = list(rows.filter(after)[:CHUNK])
        if not chunk:
            return
        previous = history.objects.in_bulk([r.previous_id for r in chunk if r.previous_id], field_name="history_id")
        m2m = _m2m_members(history, chunk, previous)
        names.load([r.history_user_id for r in chunk]
                   + [getattr(r, a) for r in [*chunk, *previous.values()] for a in user_fks])
        overrides = source.who(chunk, user, nursery) if source.who else {}
        for row in chunk:
            who = overrides.get(row.history_id) or names[row.history_user_id] or "System"
            yield (row.history_date, index, row.history_id), AuditRow(
                when=row.history_date, who=who, action=ACTIONS.get(row.history_type, row.history_type),
                record=source.label, record_id=row.id,
                changes=_describe(fields, row, previous.get(row.previous_id), names, m2m),
                reason=row.history_change_reason or "",
            )
        last = chunk[-1]
        after = Q(history_date__gt=last.history_date) | Q(history_date=last.history_date,
                                                           history_id__gt=last.history_id)


def audit_rows(*, user, nursery: Nursery, period: Period) -> Iterator[AuditRow]:
    """Every change to the nursery's governance records in ``period``, oldest first, as ``user`` may read it."""
    names = _Names()
    streams = [_source_rows(s, i, nursery=nursery, user=user, period=period, names=names)
               for i, s in enumerate(SOURCES)]
    for _key, row in heapq.merge(*streams, key=lambda item: item[0]):
        yield row
