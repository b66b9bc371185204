import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentDecision, ConsentRequest, ConsentWording, Decision, Method, RequestKind, Scope
from consent.queries import RENEWAL_NOTICE, State, add_months, consent_states, current_wordings, latest_decisions
from consent.signals import consent_withdrawn
from consent.uploads import validated_scan
from nursery import outbox
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


def announce_withdrawal(decision: ConsentDecision, *, withdrawn_by) -> None:
    """Fire the withdrawal seam once, after the surrounding transaction commits."""
    transaction.on_commit(
        lambda: consent_withdrawn.send(
            sender=ConsentDecision, decision=decision, child_id=decision.child_id, scope=decision.scope,
            withdrawn_by=withdrawn_by,
        )
    )


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
    children = {c.pk: c for c in Child.objects.on_roll(today).filter(nursery=nursery).select_related("nursery")}
    states = consent_states(children, now=now)
    wordings = current_wordings([nursery.pk], Scope.values)
    responsible: dict[int, list] = {}
    for g in Guardianship.objects.filter(child_id__in=children, has_parental_responsibility=True).select_related(
        "user"
    ):
        responsible.setdefault(g.child_id, []).append(g.user)
    history_of: dict[tuple, tuple[int, datetime]] = {}
    for r in ConsentRequest.objects.filter(child_id__in=children).values_list(
        "child_id", "scope", "kind", "recipient_id", "cycle", "round", "sent_at"
    ):
        key, previous = r[:5], history_of.get(r[:5])
        if previous is None or r[5] > previous[0]:
            history_of[key] = (r[5], r[6])

    def next_round(child_id, scope, kind, recipient_id, cycle, starts: date) -> int | None:
        previous = history_of.get((child_id, scope, kind, recipient_id, cycle))
        if previous is None:
            return 1 if today >= starts else None
        rounds, last_sent = previous
        if rounds > MAX_REMINDERS or today < timezone.localdate(last_sent) + REMINDER_EVERY:
            return None
        return rounds + 1

    due: dict[tuple[int, int], list[_Due]] = {}  # (recipient, child) -> what to ask them about
    users = {}

    def ask(user, child, scope, kind, cycle, starts):
        round_ = next_round(child.pk, scope, kind, user.pk, cycle, starts)
        if round_ is not None:
            users[user.pk] = user
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
    for decision in latest_decisions(children, Scope.values):
        wording = wordings.get((nursery.pk, decision.scope))
        if (
            decision.decision == Decision.GRANTED and wording is not None and decision.wording_id != wording.pk
            and (decision.child_id, decision.guardian_id) in responsible_pairs
        ):
            ask(decision.guardian, children[decision.child_id], decision.scope, RequestKind.NEW_WORDING,
                f"v{wording.version}", timezone.localdate(wording.published_at))

    sent = 0
    batches = list(due.items())
    for start in range(0, len(batches), SWEEP_CHUNK):
        chunk = [(users[user_id], items) for (user_id, _), items in batches[start:start + SWEEP_CHUNK]]
        try:
            sent += _send_requests(chunk, nursery, now)
        except Exception:  # noqa: BLE001 - one bad chunk must not stop the rest: tomorrow's run tries it again
            logger.exception("Consent requests for %s: a chunk of %d guardians failed", nursery, len(chunk))
    return sent + _tell_leadership_of_expiries(nursery, expired, history_of, now)


SWEEP_CHUNK = 1000  # guardians per transaction: five queries each, however many children they are asked about


def _send_requests(chunk: list[tuple[object, list[_Due]]], nursery: Nursery, now: datetime) -> int:
    """Record and send a chunk of requests in a fixed number of queries; return how many were sent.

    A request another run recorded first (the unique round) is not sent again: the chunk then keeps only
    the rows this run wrote (``sent_at=now``), so two runs at once still send each request once."""
    def rows():
        return [
            ConsentRequest(nursery=nursery, child=item.child, scope=item.scope, kind=item.kind, recipient=user,
                           cycle=item.cycle, round=item.round, sent_at=now)
            for user, items in chunk for item in items
        ]

    def key(r):
        return r.recipient_id, r.child_id, r.scope, r.kind, r.cycle, r.round

    with transaction.atomic():
        try:
            with transaction.atomic():
                ours = ConsentRequest.objects.bulk_create(rows())
        except IntegrityError:
            wanted = {key(r) for r in rows()}
            ConsentRequest.objects.bulk_create(rows(), ignore_conflicts=True)
            ours = [
                r for r in ConsentRequest.objects.filter(
                    nursery=nursery, sent_at=now, recipient_id__in={user.pk for user, _ in chunk}
                )
                if key(r) in wanted
            ]
        ConsentRequest.history.bulk_history_create(ours, default_change_reason="Daily photo consent requests")
        written = {key(r) for r in ours}
        messages, url = [], reverse("consent:mine")
        for user, items in chunk:
            items = [i for i in items if (user.pk, i.child.pk, i.scope, i.kind, i.cycle, i.round) in written]
            if items:
                messages.append(_request_message(user, items, nursery, url))
        notify_each(messages)
    return len(messages)


def _request_message(user, items: list[_Due], nursery: Nursery, url: str) -> Message:
    child = items[0].child
    kinds = {item.kind for item in items}
    subject = {
        RequestKind.FIRST_ASK: f"Please tell us about photos of {child.first_name}",
        RequestKind.RENEWAL: f"Please renew your photo consent for {child.first_name}",
        RequestKind.NEW_WORDING: f"We have updated our photo consent: please read it for {child.first_name}",
    }.get(kinds.pop() if len(kinds) == 1 else None, f"Photo consent for {child.first_name}: please have a look")
    if any(item.round > 1 for item in items):
        subject = f"Reminder: {subject[0].lower()}{subject[1:]}"
    return Message(user, subject, "consent/email/request.txt",
                   {"child": child, "items": items, "nursery": nursery, "MAX_REMINDERS": MAX_REMINDERS},
                   nursery=nursery, url=url)


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
