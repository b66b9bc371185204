"""Month by month over the last 12 months: is the policy holding? Read for the leadership dashboard.

Every figure is computed in Python from a fixed set of queries (one per source, whatever the history), so
the page costs the same whether the nursery has one month of records or years of them. Months are
calendar months in Europe/London; the current month counts so far.
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from consent.models import ConsentDecision, ConsentWording, Scope
from consent.queries import consent_state_at
from moderation.models import Comment, ModerationItem, Priority
from moderation.models import ItemStatus as ModerationStatus
from nursery.models import Child, Guardianship, Membership, Nursery
from posts.models import Takedown
from staff_conduct.models import AUDIENCE, Acknowledgement, Incident, PolicyKind, PolicyVersion

MONTHS = 12


@dataclass(frozen=True)
class Month:
    first: date

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def next(self) -> "Month":
        year, month = divmod(self.first.year * 12 + self.first.month, 12)
        return Month(date(year, month + 1, 1))

    @property
    def end(self) -> datetime:
        return self.next.start

    @property
    def label(self) -> str:
        return f"{self.first:%b %Y}"

    @property
    def short(self) -> str:
        return f"{self.first:%b}"


def last_months(today: date, count: int = MONTHS) -> list[Month]:
    months = []
    for back in range(count - 1, -1, -1):
        year, month = divmod(today.year * 12 + today.month - 1 - back, 12)
        months.append(Month(date(year, month + 1, 1)))
    return months


def _month_of(months: list[Month], moment: datetime | None) -> int | None:
    if moment is None:
        return None
    local = timezone.localtime(moment).date().replace(day=1)
    for i, month in enumerate(months):
        if month.first == local:
            return i
    return None


def _effective_by_month(child, scope, decisions, wordings, responsible, moments, days) -> list[bool | None]:
    """Effective consent at each moment (None when not on roll), asking the rule only when an input changed.

    The state can change only when a decision is made, a wording is published, the child joins or leaves,
    or a grant expires; between those, the previous month's answer stands. This keeps 2,000 children x 2
    scopes x 12 months to a few thousand evaluations instead of 48,000.
    """
    decisions = sorted(decisions, key=lambda d: d.decided_at)
    results, last_key, last = [], None, None
    for moment, day in zip(moments, days, strict=True):
        if not child.is_on_roll(day):
            results.append(None)
            continue
        key = (sum(d.decided_at <= moment for d in decisions), sum(w.published_at <= moment for w in wordings))
        if key != last_key or (last.expires_at is not None and last.expires_at <= moment):
            last = consent_state_at(child, scope, decisions, wordings, responsible, moment)
            last_key = key
        results.append(last.effective)
    return results


@dataclass
class Trends:
    months: list[Month]
    coverage: dict[str, list[float | None]]  # scope -> % of children on roll with consent at the month's end
    comments: list[int]
    reviewed: list[int]
    review_median: list[float | None]  # minutes
    within_target: list[float | None]  # % of items reviewed within their target
    takedowns_opened: list[int]
    takedowns_on_time: list[int]
    takedowns_late: list[int]  # confirmed late, or still open past the deadline
    acknowledgements: dict[str, list[float | None]]  # policy kind -> % of the audience, at the month's end
    incidents_opened: list[int]
    incidents_closed: list[int]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def trends(nursery: Nursery, *, now: datetime | None = None) -> Trends:
    now = now or timezone.now()
    months = last_months(timezone.localdate(now))
    since, n = months[0].start, len(months)
    # The moment each month is judged at: its last instant, or now for the month under way.
    moments = [min(m.end, now) - timedelta(microseconds=1) for m in months]

    # Consent coverage: the same rule as everywhere, asked of the ledger as it stood at each month's end.
    children = list(Child.objects.filter(nursery=nursery).select_related("nursery"))
    responsible = defaultdict(set)
    for child_id, user_id in Guardianship.objects.filter(
        child__nursery=nursery, has_parental_responsibility=True
    ).values_list("child_id", "user_id"):
        responsible[child_id].add(user_id)
    wordings = defaultdict(list)
    for wording in ConsentWording.objects.filter(nursery=nursery).only("scope", "version", "published_at"):
        wordings[wording.scope].append(wording)
    ledger = defaultdict(list)
    for decision in ConsentDecision.objects.filter(nursery=nursery).only(
        "child_id", "scope", "decision", "guardian_id", "wording_id", "decided_at"
    ):
        ledger[(decision.child_id, decision.scope)].append(decision)
    days = [timezone.localdate(moment) for moment in moments]
    coverage = {}
    for scope in Scope.values:
        granted, on_roll = [0] * n, [0] * n
        for child in children:
            for i, effective in enumerate(_effective_by_month(
                child, scope, ledger[(child.pk, scope)], wordings[scope], responsible[child.pk], moments, days
            )):
                if effective is not None:
                    on_roll[i] += 1
                    granted[i] += effective
        coverage[scope] = [_percent(g, r) for g, r in zip(granted, on_roll, strict=True)]

    comments = [0] * n
    for received_at in Comment.objects.filter(nursery=nursery, received_at__gte=since).values_list(
        "received_at", flat=True
    ):
        i = _month_of(months, received_at)
        if i is not None:
            comments[i] += 1

    targets = {Priority.CONCERN: nursery.moderation_target_high_minutes,
               Priority.HIGH: nursery.moderation_target_high_minutes,
               Priority.MEDIUM: nursery.moderation_target_medium_minutes}
    waits, in_time = defaultdict(list), defaultdict(int)
    for priority, opened_at, resolved_at in ModerationItem.objects.filter(
        nursery=nursery, status=ModerationStatus.RESOLVED, resolved_at__gte=since
    ).values_list("priority", "opened_at", "resolved_at"):
        i = _month_of(months, resolved_at)
        if i is None:
            continue
        minutes = (resolved_at - opened_at).total_seconds() / 60
        waits[i].append(minutes)
        in_time[i] += minutes <= targets.get(priority, nursery.moderation_target_low_minutes)

    opened, on_time, late = [0] * n, [0] * n, [0] * n
    for opened_at, deadline, confirmed_at in Takedown.objects.filter(nursery=nursery, opened_at__gte=since).values_list(
        "opened_at", "deadline", "confirmed_at"
    ):
        i = _month_of(months, opened_at)
        if i is None:
            continue
        opened[i] += 1
        if confirmed_at is not None and confirmed_at <= deadline:
            on_time[i] += 1
        elif (confirmed_at or now) > deadline:
            late[i] += 1

    # Acknowledgements: the share of today's audience who had acknowledged the version in force at each
    # month's end (people who left are not counted against the nursery).
    versions = list(PolicyVersion.objects.filter(document__nursery=nursery).select_related("document").only(
        "version", "effective_on", "document__kind"))
    audience = defaultdict(set)
    for user_id, role in Membership.objects.filter(nursery=nursery, user__is_active=True).values_list(
        "user_id", "role"
    ):
        for kind, roles in AUDIENCE.items():
            if role in roles:
                audience[kind].add(user_id)
    acks = defaultdict(list)
    for version_id, user_id, at in Acknowledgement.objects.filter(nursery=nursery).values_list(
        "version_id", "user_id", "acknowledged_at"
    ):
        acks[version_id].append((user_id, at))
    acknowledgements = {}
    for kind in PolicyKind.values:
        series = []
        for moment in moments:
            day = timezone.localdate(moment)
            in_force = max((v for v in versions if v.document.kind == kind and v.effective_on <= day),
                           key=lambda v: v.version, default=None)
            if in_force is None:
                series.append(None)
                continue
            done = {u for u, at in acks[in_force.pk] if at <= moment} & audience[kind]
            series.append(_percent(len(done), len(audience[kind])))
        acknowledgements[kind] = series

    incidents_opened, incidents_closed = [0] * n, [0] * n
    for reported_at, closed_at in Incident.objects.filter(
        Q(reported_at__gte=since) | Q(closed_at__gte=since), nursery=nursery
    ).values_list("reported_at", "closed_at"):
        i = _month_of(months, reported_at)
        if i is not None:
            incidents_opened[i] += 1
        j = _month_of(months, closed_at)
        if j is not None:
            incidents_closed[j] += 1

    return Trends(
        months=months, coverage=coverage, comments=comments, reviewed=[len(waits[i]) for i in range(n)],
        review_median=[round(statistics.median(waits[i]), 1) if waits[i] else None for i in range(n)],
        within_target=[_percent(in_time[i], len(waits[i])) for i in range(n)],
        takedowns_opened=opened, takedowns_on_time=on_time, takedowns_late=late,
        acknowledgements=acknowledgements, incidents_opened=incidents_opened, incidents_closed=incidents_closed,
    )
