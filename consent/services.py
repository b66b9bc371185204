import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentDecision, ConsentRequest, ConsentWording, Decision, Method, RequestKind, Scope
from consent.queries import RENEWAL_NOTICE, State, add_months, consent_states, current_wordings, latest_decisions
from consent.signals import consent_withdrawn
from consent.uploads import validated_scan
from nursery import bulk, outbox
from nursery.audit import acting_as
from nursery.errors import ServiceError
from nursery.models import Child, Guardianship, Nursery, Role
from nursery.permissions import is_leader, is_staff_member, users_with_role
from nursery.services import Message, notify, notify_each
from nursery.signatures import mismatch_message, signs_for

logger = logging.getLogger(__name__)

NOT_CHECKED = object()  # a caller that rendered no form (a script, the shell) has seen nothing to compare


class AlreadyRecorded(ServiceError):
    """The same decision again (a double submit): nothing to do, and nothing went wrong."""


def _lock_child(child: Child) -> Child:
    # Withdrawals and the publishing gate lock the same child row, so one always sees the other.
    return Child.objects.select_for_update().select_related("nursery").get(pk=child.pk)


def _responsible_guardianship(user, child: Child) -> Guardianship:
    guardianship = Guardianship.objects.filter(user=user, child=child).first()
    if guardianship is None:
        raise ServiceError("You can only decide for children you are a parent or carer of.")
    if not guardianship.has_parental_responsibility:
        raise ServiceError(
            "Only a parent or carer with parental responsibility can give or withdraw photo consent."
        )
    return guardianship


def _current_wording(child: Child, scope: str) -> ConsentWording:
    wording = ConsentWording.objects.filter(nursery_id=child.nursery_id, scope=scope).order_by("-version").first()
    if wording is None:
        raise ServiceError("The nursery has not published the consent wording for this yet.")
    return wording


def _check_scope(scope: str) -> None:
    if scope not in Scope.values:
        raise ServiceError("There is no such kind of photo consent.")


def clean_signature(signature: str) -> str:
    """The typed full name, spaces tidied; refused unless it reads as a name."""
    signature = " ".join((signature or "").split())
    allowed = set(" -'’.")
    if (
        len(signature) < 3
        or not any(ch.isalpha() for ch in signature)
        or any(not (ch.isalpha() or ch in allowed) for ch in signature)
    ):
        raise ServiceError("Please type your full name as your signature (letters only, for example Grace Okafor).")
    return signature[:200]


def latest_decision_id(child: Child | int, scope: str) -> int | None:
    """The newest ledger row for (child, scope), whoever made it: forms embed it to detect replays."""
    child_id = child if isinstance(child, int) else child.pk
    return ConsentDecision.objects.filter(child_id=child_id, scope=scope).aggregate(latest=Max("pk"))["latest"]


def _refuse_replay(child: Child, scope: str, seen_decision_id) -> None:
    if seen_decision_id is NOT_CHECKED:
        return
    if latest_decision_id(child, scope) != seen_decision_id:
        raise ServiceError(
            "Someone made a newer decision about this since you opened the page, so nothing was recorded. "
            "Please check the current state and decide again."
        )


def grant_consent(
    user, *, child: Child, scope: str, wording_id: int, signature: str, ip_address: str | None = None,
    user_agent: str = "", now: datetime | None = None, seen_decision_id=NOT_CHECKED,
) -> ConsentDecision:
    """A guardian with parental responsibility agrees, online, to the wording they were shown.

    ``seen_decision_id`` is the newest decision the form showed: if the ledger has moved on since (the
    other parent withdrew, the form was replayed) nothing is recorded.
    """
    now = now or timezone.now()
    _check_scope(scope)
    signature = clean_signature(signature)
    with transaction.atomic(), acting_as(user, f"Granted {scope} photo consent online"):
        child = _lock_child(child)
        _responsible_guardianship(user, child)
        if not signs_for(signature, user):
            raise ServiceError(mismatch_message(user, own=True))
        wording = _current_wording(child, scope)
        if wording.pk != wording_id:
            raise ServiceError(
                "The consent wording has changed since you opened this page. Please read the new wording."
            )
        latest = _latest_own_decision(user, child, scope)
        if (
            latest is not None and latest.decision == Decision.GRANTED and latest.wording_id == wording.pk
            # within the renewal notice the same wording is granted again: that is the renewal
            and add_months(latest.decided_at, child.nursery.consent_renewal_months) - RENEWAL_NOTICE > now
            # a withdrawal that stands (a former guardian's) is answered only by a grant made after it
            and consent_states([child.pk], [scope], now=now)[(child.pk, scope)].state != State.WITHDRAWN
        ):
            raise AlreadyRecorded("You have already given this consent; nothing has changed.")
        _refuse_replay(child, scope, seen_decision_id)
        decision = ConsentDecision.objects.create(
            nursery=child.nursery, child=child, scope=scope, decision=Decision.GRANTED, guardian=user,
            signature=signature, wording=wording, decided_at=now, method=Method.ONLINE,
            ip_address=ip_address, user_agent=(user_agent or "")[:400],
        )
        _confirm(decision)
        return decision


def withdraw_consent(
    user, *, child: Child, scope: str, ip_address: str | None = None, user_agent: str = "",
    now: datetime | None = None, seen_decision_id=NOT_CHECKED,
) -> ConsentDecision:
    """One step, no reason asked, effective at once; posts already out are taken down after commit."""
    now = now or timezone.now()
    _check_scope(scope)
    with transaction.atomic(), acting_as(user, f"Withdrew {scope} photo consent online"):
        child = _lock_child(child)
        _responsible_guardianship(user, child)
        latest = _latest_own_decision(user, child, scope)
        if latest is not None and latest.decision == Decision.WITHDRAWN:
            raise AlreadyRecorded("You have already withdrawn this consent; nothing has changed.")
        _refuse_replay(child, scope, seen_decision_id)
        decision = ConsentDecision.objects.create(
            nursery=child.nursery, child=child, scope=scope, decision=Decision.WITHDRAWN, guardian=user,
            signature="", wording=_current_wording(child, scope), decided_at=now, method=Method.ONLINE,
            ip_address=ip_address, user_agent=(user_agent or "")[:400],
        )
        announce_withdrawal(decision, withdrawn_by=user)
        _confirm(decision)
        return decision


def announce_withdrawal(decision: ConsentDecision | None, *, withdrawn_by, child_id: int | None = None,
                        scope: str | None = None) -> None:
    """Fire the withdrawal seam once the surrounding transaction commits, durably: the call is an outbox row
    written in that transaction and run in this process straight after commit, so a process that dies
    between the commit and the receivers leaves it to the dispatcher instead of losing it. ``decision`` is
    None when a change of guardians ended consent (then give ``child_id`` and ``scope``)."""
    from consent.tasks import announce_consent_withdrawn

    outbox.enqueue(
        announce_consent_withdrawn, decision.child_id if decision else child_id, decision.scope if decision else scope,
        decision_id=decision.pk if decision else None,
        withdrawn_by_id=withdrawn_by.pk if withdrawn_by is not None else None, here=True,
    )


def send_withdrawal_signal(*, child_id: int, scope: str, decision_id: int | None, withdrawn_by_id: int | None) -> None:
    """Send ``consent_withdrawn`` (the outbox runs this after the withdrawal committed; at least once)."""
    from django.contrib.auth import get_user_model

    decision = ConsentDecision.objects.get(pk=decision_id) if decision_id else None
    withdrawn_by = get_user_model().objects.filter(pk=withdrawn_by_id).first() if withdrawn_by_id else None
    consent_withdrawn.send(sender=ConsentDecision if decision else Guardianship, decision=decision,
                           child_id=child_id, scope=scope, withdrawn_by=withdrawn_by)


def _latest_own_decision(user, child: Child, scope: str) -> ConsentDecision | None:
    own = ConsentDecision.objects.filter(child=child, scope=scope, guardian=user)
    return own.order_by("-decided_at", "-pk").first()


def _confirm(decision: ConsentDecision) -> None:
    """The guardian gets a copy of what they agreed to; the child's other carers and leadership are told."""
    child, nursery = decision.child, decision.child.nursery
    context = {"decision": decision, "child": child, "nursery": nursery, "wording": decision.wording}
    granted = decision.decision == Decision.GRANTED
    scope_words = "private parents' pages" if decision.scope == Scope.CLOSED else "public pages"
    url = reverse("consent:decide", args=[child.pk, decision.scope])
    notify(
        [decision.guardian],
        f"{'You gave' if granted else 'You withdrew'} consent for photos of {child.first_name} on our {scope_words}",
        "consent/email/confirmation.txt", context, nursery=nursery, url=url,
    )
    others = [g.user for g in child.guardianships.select_related("user") if g.user_id != decision.guardian_id]
    notify(
        others, f"Photo consent for {child.first_name} changed ({scope_words})",
        "consent/email/changed_by_other.txt", context, nursery=nursery, url=url,
    )
    if not granted:
        notify(
            users_with_role(nursery, Role.LEADERSHIP),
            f"Photo consent withdrawn: {child.full_name} ({scope_words})",
            "consent/email/withdrawn_to_leadership.txt", context, nursery=nursery,
            url=reverse("consent:evidence", args=[child.pk]),
        )


# --- Paper forms --------------------------------------------------------------------------------------


def record_paper_decision(
    user, *, child: Child, scope: str, decision: str, guardian, signature: str, signed_on: date,
    wording: ConsentWording | None = None, scan, now: datetime | None = None,
) -> ConsentDecision:
    """A signed paper form, entered by staff with its scan; a paper withdrawal is a withdrawal like any other."""
    now = now or timezone.now()
    _check_scope(scope)
    if not is_staff_member(user, child.nursery):
        raise ServiceError("Only nursery staff can record a paper consent form.")
    if decision not in Decision.values:
        raise ServiceError("Choose whether the form gives or withdraws consent.")
    today = timezone.localdate(now)
    if signed_on > today:
        raise ServiceError("The date signed cannot be in the future.")
    content, extension, received_sha256 = validated_scan(scan)
    signature = clean_signature(signature) if decision == Decision.GRANTED else " ".join((signature or "").split())
    # A form signed today counts from now, so it is later than anything decided online this morning.
    decided_at = now if signed_on == today else timezone.make_aware(datetime.combine(signed_on, time(12)))
    with transaction.atomic(), acting_as(user, f"Recorded a paper {decision} of {scope} photo consent"):
        child = _lock_child(child)
        _responsible_guardianship_of(guardian, child)
        if signature and not signs_for(signature, guardian):
            raise ServiceError(mismatch_message(guardian, own=False))
        current = _current_wording(child, scope)
        wording = wording or current
        if wording.nursery_id != child.nursery_id or wording.scope != scope:
            raise ServiceError("Choose the wording version printed on the form.")
        if decision == Decision.WITHDRAWN:
            wording = current
        newer = _latest_own_decision(guardian, child, scope)
        if newer is not None and newer.decided_at >= decided_at:
            raise ServiceError(
                f"{guardian.get_full_name() or guardian.username} made a newer decision on "
                f"{timezone.localtime(newer.decided_at):%d %b %Y}, so this older form would change nothing. "
                "Please check with the family."
            )
        # Named by nothing a reader could learn a child's name from.
        content.name = f"{uuid.uuid4().hex}.{extension}"
        row = ConsentDecision.objects.create(
            nursery=child.nursery, child=child, scope=scope, decision=decision, guardian=guardian,
            signature=signature[:200], wording=wording, decided_at=decided_at, method=Method.PAPER,
            paper_scan=content, paper_scan_sha256=received_sha256, recorded_by=user,
        )
        if decision == Decision.WITHDRAWN:
            announce_withdrawal(row, withdrawn_by=user)
        _confirm(row)
        return row


def _responsible_guardianship_of(guardian, child: Child) -> Guardianship:
    guardianship = Guardianship.objects.filter(user=guardian, child=child).first()
    if guardianship is None or not guardianship.has_parental_responsibility:
        raise ServiceError("The form must be signed by a parent or carer with parental responsibility for the child.")
    return guardianship


# --- Wording ------------------------------------------------------------------------------------------


def publish_wording(
    user, *, nursery: Nursery, scope: str, text: str, now: datetime | None = None
) -> ConsentWording:
    """A new version of the text guardians agree to. Grants of older versions stop being current at once,
    and everyone who granted them is asked to agree again."""
    now = now or timezone.now()
    _check_scope(scope)
    if not is_leader(user, nursery):
        raise ServiceError("Only the leadership team can publish consent wording.")
    text = (text or "").strip().replace("\r\n", "\n")
    if len(text) < 80:
        raise ServiceError("The wording is too short: say what photos are for, where they go and how to withdraw.")
    if nursery.name.lower() not in text.lower():
        raise ServiceError(f"The wording must name the nursery ({nursery.name}).")
    if "withdraw" not in text.lower():
        raise ServiceError("The wording must say that consent can be withdrawn at any time, and how.")
    with transaction.atomic(), acting_as(user, f"Published new {scope} consent wording"):
        Nursery.objects.select_for_update().filter(pk=nursery.pk).first()
        current = ConsentWording.objects.filter(nursery=nursery, scope=scope).order_by("-version").first()
        if current is not None and current.text.strip() == text:
            raise ServiceError("This is the same as the current wording; nothing was published.")
        try:
            with transaction.atomic():
                wording = ConsentWording.objects.create(
                    nursery=nursery, scope=scope, version=(current.version + 1 if current else 1), text=text,
                    published_at=now, published_by=user,
                )
        except IntegrityError as exc:
            raise ServiceError("Someone else published a version at the same moment. Please check and retry.") from exc

        from consent.tasks import send_consent_requests

        outbox.enqueue(send_consent_requests, nursery_id=nursery.pk)
        return wording


# --- Requests, reminders and renewals -----------------------------------------------------------------

MAX_REMINDERS = 3  # after the request itself
REMINDER_EVERY = timedelta(days=7)
FIRST_ASK_AFTER = timedelta(days=1)


@dataclass
class _Due:
    child: Child
    scope: str
    kind: str
    cycle: str
    round: int


def send_consent_requests(*, now: datetime | None = None, nursery_ids: list[int] | None = None) -> int:
    """Ask guardians for the decisions that are missing, due for renewal or on old wording; tell leadership
    of grants that expired. Safe to run any number of times a day: what was sent is recorded and never
    sent again. Returns the number of notifications sent."""
    now = now or timezone.now()
    nurseries = Nursery.objects.all() if nursery_ids is None else Nursery.objects.filter(pk__in=nursery_ids)
    sent = 0
    with acting_as(None, "Daily photo consent requests and reminders"):
        for nursery in nurseries.order_by("pk"):
            sent += _send_for_nursery(nursery, now)
    return sent


def _send_for_nursery(nursery: Nursery, now: datetime) -> int:
    today = timezone.localdate(now)
    # The children on roll as a subquery, not a list of 10,000 ids: each query below stays one short statement.
    on_roll = Child.objects.on_roll(today).filter(nursery=nursery)
    children = {c.pk: c for c in on_roll}
    for child in children.values():
        child.nursery = nursery  # one nursery object for all, rather than one per child from a join
    states = consent_states(children, now=now, children=list(children.values()))
    wordings = current_wordings([nursery.pk], Scope.values)
    held = Guardianship.objects.filter(child_id__in=on_roll.values("pk"), has_parental_responsibility=True)
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=held.values("user_id")).only(*RECIPIENT_FIELDS)}
    responsible: dict[int, list] = {}
    for child_id, user_id in held.values_list("child_id", "user_id"):
        responsible.setdefault(child_id, []).append(users[user_id])
    # What was sent already: per series, its last round and the local day it went (grouped by the database).
    history_of: dict[tuple, tuple[int, date]] = {}
    for r in ConsentRequest.objects.filter(child_id__in=on_roll.values("pk")).values_list(
        "child_id", "scope", "kind", "recipient_id", "cycle"
    ).annotate(last_round=Max("round"), last_day=Max(TruncDate("sent_at", tzinfo=timezone.get_current_timezone()))
               ).order_by():
        history_of[r[:5]] = (r[5], r[6])

    def next_round(child_id, scope, kind, recipient_id, cycle, starts: date) -> int | None:
        previous = history_of.get((child_id, scope, kind, recipient_id, cycle))
        if previous is None:
            return 1 if today >= starts else None
        rounds, last_day = previous
        if rounds > MAX_REMINDERS or today < last_day + REMINDER_EVERY:
            return None
        return rounds + 1

    due: dict[tuple[int, int], list[_Due]] = {}  # (recipient, child) -> what to ask them about

    def ask(user, child, scope, kind, cycle, starts):
        round_ = next_round(child.pk, scope, kind, user.pk, cycle, starts)
        if round_ is not None:
            due.setdefault((user.pk, child.pk), []).append(_Due(child, scope, kind, cycle, round_))

    expired = []
    for (child_id, scope), state in states.items():
        child = children[child_id]
        if state.state == State.NOT_ASKED:
            for user in responsible.get(child_id, []):
                ask(user, child, scope, RequestKind.FIRST_ASK, child.joined_on.isoformat(),
                    child.joined_on + FIRST_ASK_AFTER)
        elif state.state in (State.RENEWAL_DUE, State.EXPIRED):
            expiry = timezone.localdate(state.expires_at)
            notice_from = timezone.localdate(state.expires_at - RENEWAL_NOTICE)
            for user in responsible.get(child_id, []):
                ask(user, child, scope, RequestKind.RENEWAL, expiry.isoformat(), notice_from)
            if state.state == State.EXPIRED:
                expired.append((child, scope, expiry))
    responsible_pairs = {(child_id, u.pk) for child_id, people in responsible.items() for u in people}
    for decision in latest_decisions(children, Scope.values, guardians=False):
        wording = wordings.get((nursery.pk, decision.scope))
        if (
            decision.decision == Decision.GRANTED and wording is not None and decision.wording_id != wording.pk
            and (decision.child_id, decision.guardian_id) in responsible_pairs
        ):
            ask(users[decision.guardian_id], children[decision.child_id], decision.scope, RequestKind.NEW_WORDING,
                f"v{wording.version}", timezone.localdate(wording.published_at))

    sent = 0
    batches = list(due.items())
    texts = _RequestTexts(nursery)
    for start in range(0, len(batches), SWEEP_CHUNK):
        chunk = [(users[user_id], items) for (user_id, _), items in batches[start:start + SWEEP_CHUNK]]
        try:
            sent += _send_requests(chunk, nursery, now, texts)
        except Exception:  # noqa: BLE001 - one bad chunk must not stop the rest: tomorrow's run tries it again
            logger.exception("Consent requests for %s: a chunk of %d guardians failed", nursery, len(chunk))
    return sent + _tell_leadership_of_expiries(nursery, expired, history_of, now)


RECIPIENT_FIELDS = ("username", "first_name", "last_name", "email", "is_active")  # what a request needs
SWEEP_CHUNK = 1000  # guardians per transaction: four queries, however many children they are asked about
REQUEST_COLUMNS = ["recipient_id", "child_id", "scope", "kind", "cycle", "round"]


def _send_requests(chunk: list[tuple[object, list[_Due]]], nursery: Nursery, now: datetime,
                   texts: "_RequestTexts") -> int:
    """Record and send a chunk of requests in a fixed number of queries; return how many were sent.

    The requests are one INSERT ... ON CONFLICT DO NOTHING that returns the rows it wrote: a request another
    run recorded first (the unique round) is skipped and not sent again, so two runs at once still send
    each request once. Their history rows are copied by the database (``bulk.copy_history``)."""
    rows = [
        (user.pk, item.child.pk, item.scope, item.kind, item.cycle, item.round)
        for user, items in chunk for item in items
    ]
    with transaction.atomic():
        written = bulk.insert(ConsentRequest, REQUEST_COLUMNS, rows, same={"nursery_id": nursery.pk, "sent_at": now},
                              ignore_conflicts=True, returning=["id", *REQUEST_COLUMNS])
        bulk.copy_history(ConsentRequest, [row[0] for row in written], when=timezone.now(),
                          reason="Daily photo consent requests")
        ours = {row[1:] for row in written}
        messages, url = [], reverse("consent:mine")
        for user, items in chunk:
            items = [i for i in items if (user.pk, i.child.pk, i.scope, i.kind, i.cycle, i.round) in ours]
            if items:
                messages.append(_request_message(user, items, nursery, url, texts))
        notify_each(messages)
    return len(messages)


REQUEST_TEMPLATE = "consent/email/request.txt"


def _request_message(user, items: list[_Due], nursery: Nursery, url: str, texts: "_RequestTexts") -> Message:
    child = items[0].child
    kinds = {item.kind for item in items}
    subject = {
        RequestKind.FIRST_ASK: f"Please tell us about photos of {child.first_name}",
        RequestKind.RENEWAL: f"Please renew your photo consent for {child.first_name}",
        RequestKind.NEW_WORDING: f"We have updated our photo consent: please read it for {child.first_name}",
    }.get(kinds.pop() if len(kinds) == 1 else None, f"Photo consent for {child.first_name}: please have a look")
    if any(item.round > 1 for item in items):
        subject = f"Reminder: {subject[0].lower()}{subject[1:]}"
    context = {"child": child, "items": items, "nursery": nursery, "MAX_REMINDERS": MAX_REMINDERS}
    return Message(user, subject, REQUEST_TEMPLATE, context, nursery=nursery, url=url,
                   body=texts.body(user, context, url))


class _RequestTexts:
    """The request email, rendered once per shape (the kinds, scopes and rounds asked about) with markers
    for the guardian's and the child's names, then filled in for each guardian: rendering the template
    20,000 times took longer than writing every row of the sweep.

    The first text of each shape is also rendered the ordinary way and compared; if the template uses
    anything else about the guardian or the child, the two differ and that shape is rendered in full."""

    NAME, CHILD = "\x00guardian\x00", "\x00child\x00"

    def __init__(self, nursery: Nursery):
        from django.contrib.auth import get_user_model

        self.blank_guardian = get_user_model()(username=self.NAME)  # no full name: the template shows this
        self.blank_child = Child(nursery=nursery, first_name=self.CHILD)
        self.shapes: dict[tuple, str | None] = {}

    def body(self, user, context: dict, url: str) -> str:
        from django.template.loader import render_to_string

        def render(recipient, child, items):
            return render_to_string(REQUEST_TEMPLATE, {
                **context, "child": child, "items": items, "recipient": recipient, "url": url}).strip()

        shape = tuple((item.kind, item.scope, item.round) for item in context["items"])
        child = context["child"]
        if shape not in self.shapes:
            blank_items = [_Due(self.blank_child, i.scope, i.kind, "", i.round) for i in context["items"]]
            template = render(self.blank_guardian, self.blank_child, blank_items)
            full = render(user, child, context["items"])
            self.shapes[shape] = template if self._fill(template, user, child) == full else None
            return full
        template = self.shapes[shape]
        if template is None:
            return render(user, child, context["items"])
        return self._fill(template, user, child)

    def _fill(self, template: str, user, child) -> str:
        return template.replace(self.NAME, user.get_full_name() or user.username).replace(self.CHILD, child.first_name)


def _tell_leadership_of_expiries(nursery, expired, history_of, now) -> int:
    leaders = list(users_with_role(nursery, Role.LEADERSHIP))
    new = [
        (child, scope, expiry) for child, scope, expiry in expired
        if not any((child.pk, scope, RequestKind.EXPIRY_NOTICE, leader.pk, expiry.isoformat()) in history_of
                   for leader in leaders)
    ]
    if not new or not leaders:
        return 0
    try:
        with transaction.atomic():
            ConsentRequest.objects.bulk_create([
                ConsentRequest(nursery=nursery, child=child, scope=scope, kind=RequestKind.EXPIRY_NOTICE,
                               recipient=leader, cycle=expiry.isoformat(), round=1, sent_at=now)
                for child, scope, expiry in new for leader in leaders
            ])
            notify(leaders, f"Photo consent expired for {len({c.pk for c, _, _ in new})} "
                   f"child{'ren' if len({c.pk for c, _, _ in new}) != 1 else ''}",
                   "consent/email/expired.txt", {"expired": sorted(new, key=lambda e: e[0].full_name)},
                   nursery=nursery, url=reverse("consent:register") + "?state=expired")
    except IntegrityError:
        return 0
    return len(leaders)
