"""Effective consent: the one rule every publication depends on, written once.

Consent for (child, scope) holds only if
- the child is on roll,
- some guardian with parental responsibility has, as their latest decision in that scope, a grant of
  the nursery's current wording for that scope,
- that grant is younger than the nursery's renewal period, and
- no guardian with parental responsibility has a withdrawal as their latest decision in that scope.
"""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from consent.models import ConsentDecision, ConsentWording, Decision, Scope
from nursery.models import Child, Guardianship

RENEWAL_NOTICE = timedelta(days=30)


class State:
    GRANTED = "granted"
    RENEWAL_DUE = "renewal_due"  # still effective, expires within RENEWAL_NOTICE
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    WORDING_CHANGED = "wording_changed"  # granted an older wording: needs asking again
    NOT_ASKED = "not_asked"
    LEFT = "left"  # not on roll


STATE_LABELS = {
    State.GRANTED: "Granted",
    State.RENEWAL_DUE: "Renewal due",
    State.WITHDRAWN: "Withdrawn",
    State.EXPIRED: "Expired",
    State.WORDING_CHANGED: "New wording to agree",
    State.NOT_ASKED: "Not asked",
    State.LEFT: "Left nursery",
}


@dataclass(frozen=True)
class ConsentState:
    child_id: int
    scope: str
    state: str
    latest: ConsentDecision | None  # the most recent decision of any guardian with parental responsibility
    expires_at: datetime | None

    @property
    def effective(self) -> bool:
        return self.state in (State.GRANTED, State.RENEWAL_DUE)

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def current_wordings(nursery_ids: Iterable[int], scopes: Iterable[str]) -> dict[tuple[int, str], ConsentWording]:
    current: dict[tuple[int, str], ConsentWording] = {}
    for wording in ConsentWording.objects.filter(nursery_id__in=set(nursery_ids), scope__in=set(scopes)):
        key = (wording.nursery_id, wording.scope)
        if key not in current or wording.version > current[key].version:
            current[key] = wording
    return current


def latest_decisions(child_ids: Iterable[int], scopes: Iterable[str]):
    """Each guardian's latest decision per child and scope (one query)."""
    later = ConsentDecision.objects.filter(
        child_id=OuterRef("child_id"), guardian_id=OuterRef("guardian_id"), scope=OuterRef("scope")
    ).filter(decided_at__gt=OuterRef("decided_at"))
    same_time_later_id = ConsentDecision.objects.filter(
        child_id=OuterRef("child_id"), guardian_id=OuterRef("guardian_id"), scope=OuterRef("scope"),
        decided_at=OuterRef("decided_at"), pk__gt=OuterRef("pk"),
    )
    return (
        ConsentDecision.objects.filter(child_id__in=list(child_ids), scope__in=list(scopes))
        .filter(~Exists(later), ~Exists(same_time_later_id))
        .select_related("guardian", "wording", "recorded_by")
    )


def consent_states(
    child_ids: Iterable[int], scopes: Iterable[str] = (Scope.CLOSED, Scope.PUBLIC), *, now: datetime | None = None,
    lock: bool = False,
) -> dict[tuple[int, str], ConsentState]:
    """The consent state of every (child, scope) asked for, in four queries however many children.

    ``lock=True`` takes a row lock on the children first (the publishing gate): withdrawals take the
    same lock, so whichever commits first is seen by the other.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    scopes = list(scopes)
    children = Child.objects.filter(pk__in=list(child_ids)).select_related("nursery").order_by("pk")
    if lock:
        children = children.select_for_update(of=("self",))
    children = list(children)
    ids = [c.pk for c in children]
    wordings = current_wordings({c.nursery_id for c in children}, scopes)
    responsible = set(
        Guardianship.objects.filter(child_id__in=ids, has_parental_responsibility=True).values_list(
            "child_id", "user_id"
        )
    )
    by_child_scope: dict[tuple[int, str], list[ConsentDecision]] = {}
    for decision in latest_decisions(ids, scopes):
        if (decision.child_id, decision.guardian_id) in responsible:
            by_child_scope.setdefault((decision.child_id, decision.scope), []).append(decision)

    states = {}
    for child in children:
        for scope in scopes:
            decisions = sorted(
                by_child_scope.get((child.pk, scope), []), key=lambda d: (d.decided_at, d.pk), reverse=True
            )
            states[(child.pk, scope)] = _state_of(
                child, scope, decisions, wordings.get((child.nursery_id, scope)), now, today
            )
    return states


def _state_of(child, scope, decisions, wording, now, today) -> ConsentState:
    latest = decisions[0] if decisions else None

    def state(name: str, expires_at=None) -> ConsentState:
        return ConsentState(child.pk, scope, name, latest, expires_at)

    if not child.is_on_roll(today):
        return state(State.LEFT)
    if any(d.decision == Decision.WITHDRAWN for d in decisions):
        return state(State.WITHDRAWN)
    if not decisions:
        return state(State.NOT_ASKED)
    grants = [d for d in decisions if wording is not None and d.wording_id == wording.pk]
    if not grants:
        return state(State.WORDING_CHANGED)
    expires_at = max(add_months(d.decided_at, child.nursery.consent_renewal_months) for d in grants)
    if expires_at <= now:
        return state(State.EXPIRED, expires_at)
    if expires_at - now <= RENEWAL_NOTICE:
        return state(State.RENEWAL_DUE, expires_at)
    return state(State.GRANTED, expires_at)


def consent_state(child: Child | int, scope: str, *, now: datetime | None = None) -> ConsentState:
    child_id = child if isinstance(child, int) else child.pk
    return consent_states([child_id], [scope], now=now)[(child_id, scope)]


def has_effective_consent(child: Child | int, scope: str, *, now: datetime | None = None) -> bool:
    return consent_state(child, scope, now=now).effective


def children_lacking_consent(
    child_ids: Iterable[int], scopes: Iterable[str], *, now: datetime | None = None, lock: bool = False
) -> list[ConsentState]:
    """The (child, scope) pairs without effective consent, for the posts consent gate."""
    states = consent_states(set(child_ids), set(scopes), now=now, lock=lock)
    return [s for s in states.values() if not s.effective]
