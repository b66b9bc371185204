"""Effective consent: the one rule every publication depends on, written once.

Consent for (child, scope) holds only if
- the child is on roll,
- some guardian with parental responsibility has, as their latest decision in that scope, a grant of
  the nursery's current wording for that scope,
- that grant is younger than the nursery's renewal period, and
- no withdrawal stands in that scope.

A withdrawal stands until it is answered by a new grant. A guardian's withdrawal is answered by their
own later grant while they hold parental responsibility; once they no longer do (the guardianship was
removed, or parental responsibility unticked) it can only be answered by a grant made after it by a
guardian who does. Changing who the guardians are therefore never turns "withdrawn" into "granted":
removing the parent who withdrew leaves the withdrawal standing, where counting only the current
guardians' decisions made it vanish and revived the other parent's older grant.
"""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from consent.models import ConsentDecision, ConsentWording, Decision, Scope
from nursery.models import Child, Guardianship, Room
from nursery.paging import page_by_ids

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
    # the most recent decision that counts: of a guardian with parental responsibility, or a standing withdrawal
    latest: ConsentDecision | None
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


FEW_CHILDREN = 1000  # a page, a post: few enough to name twice in one query

LATEST_FIELDS = (
    "nursery", "child", "scope", "decision", "guardian", "signature", "wording", "decided_at", "method",
    "recorded_by", "guardian__username", "guardian__first_name", "guardian__last_name",
)


def latest_decisions(child_ids: Iterable[int], scopes: Iterable[str], *, guardians: bool = True):
    """Each guardian's latest decision per child and scope (one query), with ``responsible``: whether
    that guardian holds parental responsibility for the child today.

    Ranked with a window function: one pass over the ledger rows of these children, where correlated
    "no later decision exists" subqueries took a second for two thousand children.
    """
    newest_first = Window(
        RowNumber(), partition_by=[F("child_id"), F("guardian_id"), F("scope")],
        order_by=[F("decided_at").desc(), F("pk").desc()],
    )
    child_ids = list(child_ids)
    guardianships = Guardianship.objects.filter(has_parental_responsibility=True)
    if len(child_ids) <= FEW_CHILDREN:
        # The same children named again: PostgreSQL hashes this subquery once, and then reads only these
        # children's guardianships (by index) rather than every guardianship in the database.
        guardianships = guardianships.filter(child_id__in=child_ids)
    return (
        ConsentDecision.objects.filter(child_id__in=child_ids, scope__in=list(scopes))
        .annotate(rank=newest_first, responsible=Exists(guardianships.filter(
            child_id=OuterRef("child_id"), user_id=OuterRef("guardian_id"),
        )))
        .filter(rank=1)
        # Only what a state needs and pages show: not the wording text, not the guardian's password hash.
        .select_related(*(["guardian"] if guardians else []))
        .only(*(LATEST_FIELDS if guardians else [f for f in LATEST_FIELDS if not f.startswith("guardian__")]))
    )


def consent_states(
    child_ids: Iterable[int], scopes: Iterable[str] = (Scope.CLOSED, Scope.PUBLIC), *, now: datetime | None = None,
    lock: bool = False, children: list[Child] | None = None, guardians: bool = True,
) -> dict[tuple[int, str], ConsentState]:
    """The consent state of every (child, scope) asked for, in three queries however many children.

    ``lock=True`` takes a row lock on the children first (the publishing gate): withdrawals take the
    same lock, so whichever commits first is seen by the other. A page that has already loaded the
    children (with their nursery) passes them as ``children`` instead of ids, and saves a query.
    ``guardians=False`` leaves out who decided (a user row a decision) where only the states are wanted.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    scopes = list(scopes)
    if children is None or lock:
        loaded = Child.objects.filter(pk__in=list(child_ids)).select_related("nursery").order_by("pk")
        if lock:
            loaded = loaded.select_for_update(of=("self",))
        children = list(loaded)
    ids = [c.pk for c in children]
    wordings = current_wordings({c.nursery_id for c in children}, scopes)
    by_child_scope: dict[tuple[int, str], list[ConsentDecision]] = {}
    former_withdrawals: dict[tuple[int, str], list[ConsentDecision]] = {}
    for decision in latest_decisions(ids, scopes, guardians=guardians):
        key = (decision.child_id, decision.scope)
        if decision.responsible:
            by_child_scope.setdefault(key, []).append(decision)
        elif decision.decision == Decision.WITHDRAWN:
            former_withdrawals.setdefault(key, []).append(decision)
    for key, withdrawals in former_withdrawals.items():
        by_child_scope.setdefault(key, []).extend(standing_withdrawals(withdrawals, by_child_scope.get(key, [])))

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


def standing_withdrawals(
    former: Iterable[ConsentDecision], responsible: Iterable[ConsentDecision]
) -> list[ConsentDecision]:
    """The withdrawals of people who no longer hold parental responsibility that still stand.

    ``former`` are such people's latest withdrawals; ``responsible`` the latest decisions of the guardians
    who hold it now. A withdrawal stands unless one of them has granted since.
    """
    grants = [(d.decided_at, d.pk) for d in responsible if d.decision == Decision.GRANTED]
    return [w for w in former if not any(g > (w.decided_at, w.pk) for g in grants)]


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


def consent_state_at(
    child: Child, scope: str, ledger: Iterable[ConsentDecision], wordings: Iterable[ConsentWording],
    responsible: set[int], moment: datetime,
) -> ConsentState:
    """The state (child, scope) had at ``moment``, by the same rule, from a ledger already loaded (reports).

    ``ledger`` is the child's decisions in ``scope`` (any order), ``wordings`` the nursery's wordings of
    ``scope``, ``responsible`` the ids of the guardians holding parental responsibility (today's: changes
    to guardianships are not dated). Only what was on record by then counts: a paper form entered
    afterwards did not exist yet, and the wording in force is the newest published by then.
    """
    latest: dict[int, ConsentDecision] = {}
    for d in ledger:
        if d.decided_at <= moment:
            seen = latest.get(d.guardian_id)
            if seen is None or (d.decided_at, d.pk) > (seen.decided_at, seen.pk):
                latest[d.guardian_id] = d
    current = [d for guardian, d in latest.items() if guardian in responsible]
    former = [d for guardian, d in latest.items() if guardian not in responsible and d.decision == Decision.WITHDRAWN]
    decisions = sorted([*current, *standing_withdrawals(former, current)], key=lambda d: (d.decided_at, d.pk),
                       reverse=True)
    wording = max((w for w in wordings if w.published_at <= moment), key=lambda w: w.version, default=None)
    return _state_of(child, scope, decisions, wording, moment, timezone.localdate(moment))


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


# --- Pages --------------------------------------------------------------------------------------------

SCOPE_WORDS = {
    # (scope, effective) -> the state in a parent's words
    (Scope.CLOSED, True): "Photos may be shared on our private parents' page",
    (Scope.CLOSED, False): "Not on our private parents' page",
    (Scope.PUBLIC, True): "Photos may be shared on our public pages",
    (Scope.PUBLIC, False): "Not on public pages",
}
SCOPE_TITLES = {Scope.CLOSED: "Private parents' page", Scope.PUBLIC: "Public pages"}
STATE_TONES = {
    State.GRANTED: "yes", State.RENEWAL_DUE: "warn", State.WITHDRAWN: "no", State.EXPIRED: "no",
    State.WORDING_CHANGED: "warn", State.NOT_ASKED: "no", State.LEFT: "no",
}


def plain_words(state: ConsentState) -> str:
    return SCOPE_WORDS[(state.scope, state.effective)]


def parent_detail(state: ConsentState) -> str:
    """Why the state is what it is, and what the parent can do, in one sentence."""
    if state.state == State.RENEWAL_DUE:
        return f"Please renew by {timezone.localtime(state.expires_at):%-d %B %Y}, or it will stop."
    if state.state == State.EXPIRED:
        return f"Your consent ended on {timezone.localtime(state.expires_at):%-d %B %Y}. Please renew it."
    if state.state == State.WORDING_CHANGED:
        return "We have updated what you agree to. Please read the new wording and decide again."
    if state.state == State.NOT_ASKED:
        return "Nobody has decided yet, so we do not share photos."
    if state.state == State.LEFT:
        return "Your child has left the nursery, so we do not share photos."
    return ""


@dataclass
class ScopeView:
    """One scope of one child, ready for a page."""

    state: ConsentState

    @property
    def scope(self) -> str:
        return self.state.scope

    @property
    def title(self) -> str:
        return SCOPE_TITLES[self.state.scope]

    @property
    def words(self) -> str:
        return plain_words(self.state)

    @property
    def detail(self) -> str:
        return parent_detail(self.state)

    @property
    def tone(self) -> str:
        return STATE_TONES[self.state.state]

    @property
    def needs_decision(self) -> bool:
        return self.state.state in ATTENTION


def parent_children(user, nursery, *, now: datetime | None = None) -> list[tuple[Guardianship, list[ScopeView]]]:
    """The children ``user`` is a guardian of, each with both scopes (four queries however many)."""
    guardianships = list(
        Guardianship.objects.filter(user=user, child__nursery=nursery)
        .select_related("child__room").order_by("child__first_name", "child__pk")
    )
    states = consent_states([g.child_id for g in guardianships], now=now)
    return [(g, [ScopeView(states[(g.child_id, s)]) for s in Scope.values]) for g in guardianships]


def ledger(child: Child):
    """Every decision for a child, newest first, with the wording agreed to and who entered it."""
    return child.consent_decisions.select_related("guardian", "wording", "recorded_by").order_by(
        "-decided_at", "-pk"
    )


def day_month_year(moment: datetime) -> str:
    """"2 Dec 2026" in London time, as the ``date:"j M Y"`` filter writes it in English, without the locale
    machinery that filter goes through (it cost a page of the register more than its rows' consent)."""
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y}"


@dataclass
class RegisterRow:
    child: Child
    states: dict[str, ConsentState]

    @property
    def closed(self) -> ConsentState:
        return self.states[Scope.CLOSED]

    @property
    def public(self) -> ConsentState:
        return self.states[Scope.PUBLIC]

    @property
    def latest(self) -> ConsentDecision | None:
        decisions = [s.latest for s in self.states.values() if s.latest is not None]
        return max(decisions, key=lambda d: (d.decided_at, d.pk), default=None)

    @property
    def no_photos(self) -> bool:
        return not self.closed.effective and not self.public.effective

    @property
    def latest_words(self) -> str:
        """The register's "Last decision" cell, worded here once rather than by eight template lookups a row."""
        d = self.latest
        if d is None:
            return "—"
        who = d.guardian.get_full_name() or d.guardian.username
        when = day_month_year(d.decided_at)
        return (f"{d.get_decision_display()} ({d.get_scope_display().lower()}) by {who}, {when} "
                f"({d.get_method_display().lower()})")


def name_on_the_wall(rows: list[RegisterRow]) -> None:
    """First names only on the printed list, with a surname initial where two children in a room share one."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.child.first_name.lower()] = counts.get(row.child.first_name.lower(), 0) + 1
    for row in rows:
        shared = counts[row.child.first_name.lower()] > 1
        row.wall_name = f"{row.child.first_name} {row.child.last_name[:1]}." if shared else row.child.first_name


REGISTER_FIELDS = (
    # What a register row and its consent need of a child: not its date of birth, nor the nursery's other settings.
    "nursery_id", "room_id", "first_name", "last_name", "joined_on", "left_on", "room__name",
    "nursery__consent_renewal_months",
)


@dataclass
class RegisterRoom:
    name: str
    rows: list[RegisterRow]
    on_roll: int = 0
    closed_granted: int = 0
    public_granted: int = 0
    no_photos: int = 0
    attention: int = 0


    @property
    def closed_lacking(self) -> int:
        return self.on_roll - self.closed_granted

    @property
    def public_lacking(self) -> int:
        return self.on_roll - self.public_granted


ATTENTION = {State.NOT_ASKED, State.EXPIRED, State.RENEWAL_DUE, State.WORDING_CHANGED}


def consent_by_room(nursery, *, now: datetime | None = None) -> list[RegisterRoom]:
    """Each room's counts (on roll, with consent in each scope, no photos at all, needing attention), by the
    effective-consent rule for every child on roll: three queries however many children."""
    rooms = consent_register(nursery, now=now)
    for room in rooms:
        room.rows = []  # the counts only: ten thousand rows need not outlive the request
    return rooms


def consent_register(
    nursery, *, now: datetime | None = None, room_id: int | None = None, state: str = "", scope: str = ""
) -> list[RegisterRoom]:
    """Every child on roll, by room, with both scopes; the counts are of the room before filtering."""
    now = now or timezone.now()
    children = list(
        Child.objects.on_roll(timezone.localdate(now)).filter(nursery=nursery).select_related("room", "nursery")
        .only(*REGISTER_FIELDS).order_by("room__name", "first_name", "last_name", "pk")
    )
    if room_id:
        children = [c for c in children if c.room_id == room_id]
    # Nothing here shows who decided (the home page, the photo list, the counts): no user row a decision.
    states = consent_states([c.pk for c in children], now=now, children=children, guardians=False)
    rooms: dict[str, RegisterRoom] = {}
    scopes = [scope] if scope in Scope.values else list(Scope.values)
    for child in children:
        row = RegisterRow(child, {s: states[(child.pk, s)] for s in Scope.values})
        room = rooms.setdefault(child.room.name if child.room else "No room", RegisterRoom(
            child.room.name if child.room else "No room", []))
        room.on_roll += 1
        room.closed_granted += row.closed.effective
        room.public_granted += row.public.effective
        room.no_photos += row.no_photos
        room.attention += any(s.state in ATTENTION for s in row.states.values())
        if not state or any(row.states[s].state == state for s in scopes):
            room.rows.append(row)
    return list(rooms.values())


def guardianship_changes(child: Child, limit: int = 50):
    """Who became or stopped being a parent or carer of the child, or gained or lost parental
    responsibility, newest first: the evidence of why a guardian's decisions count or stop counting."""
    return (
        Guardianship.history.filter(child_id=child.pk)
        .select_related("user", "history_user")
        .order_by("-history_date", "-history_id")[:limit]
    )


# --- The register: a page of children at a time -------------------------------------------------------

REGISTER_PAGE_SIZE = 50
CHUNK = 500  # children whose consent the CSV export computes together


def register_children(nursery, *, now: datetime | None = None, room_id: int | None = None, search: str = ""):
    """The children on the register, in its order (room, then name), before any consent is computed."""
    children = (
        Child.objects.on_roll(timezone.localdate(now or timezone.now())).filter(nursery=nursery)
        .select_related("room", "nursery").only(*REGISTER_FIELDS)
        .order_by(F("room__name").asc(nulls_last=True), "first_name", "last_name", "pk")
    )
    if room_id:
        children = children.filter(room_id=room_id)
    for word in search.split()[:5]:
        children = children.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    return children


def register_rows(children, *, now: datetime | None = None, state: str = "", scope: str = "",
                  chunk: int | None = None):
    """Every row of ``children`` (a ``register_children`` queryset) with its consent, ``chunk`` at a time.

    Each chunk costs three queries and memory holds one chunk: the CSV export streams with ``CHUNK``;
    a page's state filter passes no chunk, to compute every child at once in a fixed number of queries.
    """
    now = now or timezone.now()
    scopes = [scope] if scope in Scope.values else list(Scope.values)
    ids = list(children.values_list("pk", flat=True))
    chunk = chunk or max(len(ids), 1)
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        by_id = children.order_by().in_bulk(part)
        states = consent_states(part, now=now, children=list(by_id.values()))
        for pk in part:
            row = RegisterRow(by_id[pk], {s: states[(pk, s)] for s in Scope.values})
            if not state or any(row.states[s].state == state for s in scopes):
                yield row


def rows_for(children: list[Child], *, now: datetime | None = None) -> list[RegisterRow]:
    """The rows of one page: consent is computed for these children only."""
    states = consent_states([c.pk for c in children], now=now, children=children)
    return [RegisterRow(c, {s: states[(c.pk, s)] for s in Scope.values}) for c in children]


def register_page(nursery, *, page: str | int | None = None, now: datetime | None = None,
                  room_id: int | None = None, search: str = "", state: str = "", scope: str = "",
                  count: int | None = None):
    """One page of the register and its rows grouped by room, in a fixed number of queries.

    The page's ids are read first on the children table (joined to the rooms for their names only), then
    those 50 children in full; ``count``, when the caller knows how many children the room and search
    leave (``rooms_on_roll``), saves counting them again. Without a state filter only the page's children
    have their consent computed; a state filter has to compute every child matching the room and search
    to know which rows to show (linear time, fixed queries).
    """
    now = now or timezone.now()
    children = register_children(nursery, now=now, room_id=room_id, search=search)
    if state:
        matching = [row.child.pk for row in register_rows(children, now=now, state=state, scope=scope)]
        paged = Paginator(matching, REGISTER_PAGE_SIZE).get_page(page)
        by_id = children.order_by().in_bulk(list(paged))
        paged.object_list = [by_id[pk] for pk in paged]
    else:
        paged = page_by_ids(children, children, per_page=REGISTER_PAGE_SIZE, number=page,
                            count=None if search else count)
    rows = rows_for(paged.object_list, now=now)
    groups: dict[str, list[RegisterRow]] = {}
    for row in rows:
        groups.setdefault(row.child.room.name if row.child.room else "No room", []).append(row)
    return paged, list(groups.items())


class _Count(Subquery):
    """The number of rows of a queryset, as an expression."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _rows)"
    output_field = IntegerField()


def rooms_on_roll(nursery, *, now: datetime | None = None) -> tuple[list[tuple[Room, int]], int]:
    """Each room with its number of children on roll, and how many children on roll are in no room, in one
    query (for the register's room filter, and its number of pages without counting the children again)."""
    today = timezone.localdate(now or timezone.now())
    on_roll = Q(children__joined_on__lte=today) & (Q(children__left_on__isnull=True) | Q(children__left_on__gt=today))
    roomless = Child.objects.on_roll(today).filter(nursery=nursery, room__isnull=True).order_by().values("pk")
    rooms = list(Room.objects.filter(nursery=nursery).annotate(on_roll=Count("children", filter=on_roll),
                                                               roomless=_Count(roomless)).order_by("name"))
    return [(room, room.on_roll) for room in rooms], rooms[0].roomless if rooms else roomless.count()
