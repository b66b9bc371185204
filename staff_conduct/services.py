"""Every change to policies, acknowledgements and incidents: one function per action.

Each takes the acting user first, checks permission, runs in one transaction with ``acting_as`` for the
audit trail, and sends notifications through the outbox (``notify`` writes them in the same transaction).
"""

import logging
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from nursery import outbox
from nursery.audit import acting_as
from nursery.errors import ServiceError
from nursery.models import Nursery, Role
from nursery.permissions import has_role, is_leader, is_staff_member, roles_of, users_with_role
from nursery.services import notify
from nursery.signatures import mismatch_message, signs_for
from staff_conduct.clock import add_working_days, end_of_day, local_date
from staff_conduct.evidence import check_evidence
from staff_conduct.models import (
    AUDIENCE,
    Acknowledgement,
    AcknowledgementChase,
    AppealDecision,
    ChaseKind,
    ConfidentialReporter,
    EscalationReason,
    Evidence,
    Incident,
    IncidentEscalation,
    InvestigationNote,
    Outcome,
    PolicyClause,
    PolicyDocument,
    PolicyKind,
    PolicyVersion,
    Source,
    Status,
)
from staff_conduct.queries import audience_members, current_version, current_versions

logger = logging.getLogger(__name__)

MAX_REMINDERS = 4
REMINDER_INTERVAL = timedelta(days=7)
ASSIGNMENT_WORKING_DAYS = 2


def _clean_signature(signature: str) -> str:
    signature = " ".join((signature or "").split())
    if len(signature) < 3 or not any(ch.isalpha() for ch in signature):
        raise ServiceError("Please type your full name to sign.")
    return signature[:200]


# --- Policies and acknowledgements ---------------------------------------------------------------


def publish_policy_version(
    user, *, nursery: Nursery, kind: str, text: str, clauses: Iterable[str], effective_on: date,
    now: datetime | None = None,
) -> PolicyVersion:
    """Leadership publishes a new version; once it is in force everyone concerned is asked to acknowledge it."""
    now = now or timezone.now()
    if not is_leader(user, nursery):
        raise ServiceError("Only the leadership team can publish the nursery's policies.")
    if kind not in PolicyKind.values:
        raise ServiceError("Choose which policy this is a version of.")
    text = (text or "").strip()
    clauses = [c.strip() for c in clauses if c and c.strip()]
    if not text:
        raise ServiceError("The policy needs its text.")
    if kind == PolicyKind.STAFF and not clauses:
        raise ServiceError("The staff policy needs its clauses (one per line), so incidents can cite them.")
    if any(len(c) > 500 for c in clauses):
        raise ServiceError("Each clause can be at most 500 characters.")
    if effective_on < local_date(now):
        raise ServiceError("A new version cannot come into force in the past.")
    with transaction.atomic(), acting_as(user, f"Published a new version of the {kind} policy"):
        document, _ = PolicyDocument.objects.select_for_update().get_or_create(
            nursery=nursery, kind=kind, defaults={"title": PolicyKind(kind).label}
        )
        latest = document.versions.aggregate(latest=Max("version"))["latest"] or 0
        version = PolicyVersion.objects.create(
            document=document, version=latest + 1, text=text, effective_on=effective_on, published_at=now,
            published_by=user,
        )
        PolicyClause.objects.bulk_create(
            PolicyClause(version=version, number=number, text=clause) for number, clause in enumerate(clauses, 1)
        )
        if effective_on <= local_date(now):
            from staff_conduct.tasks import chase_acknowledgements_task

            outbox.enqueue(chase_acknowledgements_task, nursery.pk)
    return version


def acknowledge_policy(
    user, *, version: PolicyVersion, signature: str, ip_address: str | None = None, user_agent: str = "",
    now: datetime | None = None,
) -> Acknowledgement:
    now = now or timezone.now()
    signature = _clean_signature(signature)
    if not signs_for(signature, user):
        raise ServiceError(mismatch_message(user, own=True))
    document = version.document
    if not AUDIENCE[document.kind] & roles_of(user, document.nursery_id):
        raise ServiceError(f"The {document.title.lower()} is not for you to acknowledge.")
    with transaction.atomic(), acting_as(user, f"Acknowledged {document.title} v{version.version}"):
        # A newer version may have come into force since the page was opened: only the current one counts.
        current = current_version(document.nursery_id, document.kind, today=local_date(now))
        if current is None or current.pk != version.pk:
            raise ServiceError("A newer version has been published since you opened this page. Please read it.")
        if Acknowledgement.objects.filter(version=version, user=user).exists():
            raise ServiceError("You have already acknowledged this version; nothing has changed.")
        try:
            with transaction.atomic():
                return Acknowledgement.objects.create(
                    nursery_id=document.nursery_id, version=version, user=user, signature=signature,
                    acknowledged_at=now, ip_address=ip_address, user_agent=(user_agent or "")[:400],
                )
        except IntegrityError as exc:  # the same person, twice at once
            raise ServiceError("You have already acknowledged this version; nothing has changed.") from exc


def chase_acknowledgements(*, now: datetime, nursery_id: int | None = None) -> dict[str, int]:
    """Remind everyone who has not acknowledged a current version: weekly, at most four times, then tell
    leadership once who is still outstanding. Safe to run any number of times: every message sent is
    recorded, and a run only sends what is due and not yet recorded."""
    counts = {"reminders": 0, "reported": 0}
    nurseries = Nursery.objects.filter(pk=nursery_id) if nursery_id else Nursery.objects.all()
    for nursery in nurseries.order_by("pk"):
        for version in current_versions(nursery, today=local_date(now)).values():
            try:
                reminded, reported = _chase_version(nursery, version.pk, now=now)
            except Exception:  # noqa: BLE001 - one policy must not stop the others; the next run tries it again
                logger.exception("Acknowledgement chase for policy version %s failed", version.pk)
                continue
            counts["reminders"] += reminded
            counts["reported"] += reported
    return counts


def _chase_version(nursery: Nursery, version_id: int, *, now: datetime) -> tuple[int, int]:
    with transaction.atomic(), acting_as(None, "Acknowledgement reminders"):
        # Two runs at once queue here; the second sees what the first recorded.
        version = PolicyVersion.objects.select_for_update().select_related("document").get(pk=version_id)
        kind = version.document.kind
        done = set(Acknowledgement.objects.filter(version=version).values_list("user_id", flat=True))
        history: dict[int, list[AcknowledgementChase]] = {}
        for chase in AcknowledgementChase.objects.filter(version=version):
            history.setdefault(chase.user_id, []).append(chase)
        due: dict[int, list] = {}
        to_report = []
        for person in audience_members(nursery, kind):
            if person.pk in done:
                continue
            sent = history.get(person.pk, [])
            reminders = [c for c in sent if c.kind == ChaseKind.REMINDER]
            last = max((c.sent_at for c in reminders), default=None)
            if last is not None and now - last < REMINDER_INTERVAL:
                continue
            if len(reminders) < MAX_REMINDERS:
                due.setdefault(len(reminders) + 1, []).append(person)
            elif not any(c.kind == ChaseKind.REPORTED for c in sent):
                to_report.append(person)
        chases = [
            AcknowledgementChase(version=version, user=person, kind=ChaseKind.REMINDER, number=number, sent_at=now)
            for number, people in due.items() for person in people
        ] + [
            AcknowledgementChase(version=version, user=person, kind=ChaseKind.REPORTED, number=1, sent_at=now)
            for person in to_report
        ]
        AcknowledgementChase.objects.bulk_create(chases)
        url = reverse("staff_conduct:policy", kwargs={"kind": kind})
        for number, people in due.items():
            notify(
                people, f"Please read and acknowledge the {version.document.title.lower()}",
                "staff_conduct/email/acknowledgement_reminder.txt",
                {"version": version, "number": number, "last": number == MAX_REMINDERS, "nursery": nursery},
                nursery=nursery, url=url,
            )
        if to_report:
            notify(
                users_with_role(nursery, Role.LEADERSHIP),
                f"{len(to_report)} still to acknowledge the {version.document.title.lower()}",
                "staff_conduct/email/outstanding_acknowledgements.txt",
                {"version": version, "people": to_report, "reminders": MAX_REMINDERS},
                nursery=nursery, url=reverse("staff_conduct:acknowledgements"),
            )
        return sum(len(p) for p in due.values()), len(to_report)


# --- Incidents -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    refusal: str


TRANSITIONS: dict[str, Transition] = {
    "assign": Transition(
        frozenset({Status.REPORTED, Status.UNDER_INVESTIGATION}), Status.UNDER_INVESTIGATION,
        "An investigator can only be assigned before an outcome is decided.",
    ),
    "decide_outcome": Transition(
        frozenset({Status.UNDER_INVESTIGATION}), Status.OUTCOME_DECIDED,
        "An outcome can only be decided while the incident is under investigation.",
    ),
    "close": Transition(
        frozenset({Status.OUTCOME_DECIDED}), Status.CLOSED,
        "An incident can only be closed once its outcome is decided.",
    ),
    "record_appeal": Transition(
        frozenset({Status.OUTCOME_DECIDED, Status.CLOSED}), Status.APPEALED,
        "An appeal can only be recorded against a decided outcome.",
    ),
    "decide_appeal": Transition(
        frozenset({Status.APPEALED}), Status.CLOSED, "Only an incident under appeal can have its appeal decided.",
    ),
}


def allowed_actions(incident: Incident) -> set[str]:
    """Transitions open to the incident now (the page shows only these forms)."""
    allowed = {name for name, t in TRANSITIONS.items() if incident.status in t.sources}
    if incident.appeal_received_on is not None:
        allowed.discard("record_appeal")
    return allowed


def _check_leader_may_act(user, incident: Incident) -> None:
    if not is_leader(user, incident.nursery):
        raise ServiceError("Only the leadership team can handle conduct incidents.")
    if incident.subject_id == user.pk:
        raise ServiceError("You cannot see or act on an incident about yourself.")


@contextmanager
def _incident_action(user, incident: Incident, action: str | None, reason: str):
    """Lock the incident, check the actor and the transition, then save it in the new state."""
    with transaction.atomic(), acting_as(user, reason[:100]):
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        locked.nursery = Nursery.objects.get(pk=locked.nursery_id)
        _check_leader_may_act(user, locked)
        if action is None:  # notes and evidence may be added at any stage, even after closing
            yield locked
            return
        if action not in allowed_actions(locked):
            raise ServiceError(_refusal(locked, action))
        yield locked
        locked.status = TRANSITIONS[action].target
        locked.save()


def _refusal(incident: Incident, action: str) -> str:
    if action == "record_appeal" and incident.appeal_received_on is not None:
        return "An appeal has already been heard on this incident; there is only one."
    return TRANSITIONS[action].refusal


def _leaders_to_tell(incident: Incident, *, exclude=()) -> list:
    """Leadership, never the subject: a leader does not learn of an incident about themselves."""
    excluded = {incident.subject_id, *(u.pk for u in exclude if u is not None)}
    return [u for u in users_with_role(incident.nursery, Role.LEADERSHIP) if u.pk not in excluded]


def _incident_url(incident: Incident) -> str:
    return reverse("staff_conduct:incident", kwargs={"pk": incident.pk})


def _nobody_recorded(*instances) -> None:
    # simple-history would otherwise record the logged-in reporter as the author of these rows.
    for instance in instances:
        instance._history_user = None


def report_incident(
    user, *, nursery: Nursery, subject, source: str, occurred_on: date, description: str, where: str = "",
    clauses: Iterable[PolicyClause] = (), evidence=None, evidence_description: str = "", now: datetime | None = None,
) -> Incident:
    """A member of staff reports a concern about a colleague: named, whistleblowing or anonymous."""
    now = now or timezone.now()
    if not is_staff_member(user, nursery):
        raise ServiceError("Only members of staff can report a concern about a colleague here.")
    if source not in Source.values:
        raise ServiceError("Choose how you want to make this report.")
    if subject is None or not is_staff_member(subject, nursery):
        raise ServiceError("Choose the member of staff the concern is about.")
    if subject.pk == user.pk:
        raise ServiceError("You cannot report a concern about yourself.")
    if occurred_on > local_date(now):
        raise ServiceError("The date it happened cannot be in the future.")
    description = (description or "").strip()
    if not description:
        raise ServiceError("Describe what happened.")
    clauses = list(clauses)
    if any(c.version.document.nursery_id != nursery.pk or c.version.document.kind != PolicyKind.STAFF
           for c in clauses):
        raise ServiceError("Choose clauses of this nursery's staff policy.")
    checked = check_evidence(evidence) if evidence else None
    confidential = source != Source.NAMED
    with transaction.atomic(), acting_as(None if confidential else user, "Conduct concern reported"):
        incident = Incident(
            nursery=nursery, subject=subject, source=source, reported_by=None if confidential else user,
            reported_at=now, occurred_on=occurred_on, where=(where or "").strip()[:300], description=description,
        )
        if confidential:
            _nobody_recorded(incident)
        incident.save()
        incident.clauses.set(clauses)
        if source == Source.WHISTLEBLOWING:
            ConfidentialReporter.objects.create(incident=incident, reporter=user)
        if checked:
            _store_evidence(incident, evidence, checked, uploaded_by=None if confidential else user,
                            description=evidence_description, now=now)
        # A confidential reporter who is a leader is told too: leaving them out would point to them.
        notify(
            _leaders_to_tell(incident, exclude=[] if confidential else [user]),
            f"Conduct concern reported ({incident.reference})",
            "staff_conduct/email/incident_reported.txt", {"incident": incident},
            nursery=nursery, url=_incident_url(incident),
        )
    return incident


def _store_evidence(incident, upload, checked, *, uploaded_by, description: str, now: datetime) -> Evidence:
    evidence = Evidence(
        incident=incident, original_name=(getattr(upload, "name", "") or "evidence")[-200:],
        content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
        description=(description or "").strip()[:300], uploaded_by=uploaded_by, uploaded_at=now,
    )
    if uploaded_by is None:
        _nobody_recorded(evidence)
    # Saved with the row, so a failed transaction leaves at most an orphan file, never a row without one. The
    # clean copy is stored under the name given, with the extension of what it now is.
    stem = evidence.original_name.rsplit(".", 1)[0] or "evidence"
    evidence.file.save(f"{stem}.{checked.extension}", ContentFile(checked.data), save=False)
    evidence.save()
    return evidence


def assign_investigator(
    user, *, incident: Incident, investigator, due_on: date, now: datetime | None = None
) -> Incident:
    now = now or timezone.now()
    name = investigator.get_full_name() or investigator.username if investigator else ""
    reason = f"Investigator assigned: {name}, due {due_on:%-d %b %Y}"
    with _incident_action(user, incident, "assign", reason) as incident:
        if investigator is None or not is_leader(investigator, incident.nursery):
            raise ServiceError("The investigator must be a member of the leadership team.")
        if investigator.pk == incident.subject_id:
            raise ServiceError("The staff member concerned cannot investigate their own incident.")
        if due_on < local_date(now):
            raise ServiceError("The investigation due date cannot be in the past.")
        incident.investigator, incident.investigation_due_on, incident.assigned_at = investigator, due_on, now
    notify(
        [investigator], f"You are investigating conduct incident {incident.reference}",
        "staff_conduct/email/investigation_assigned.txt", {"incident": incident, "assigned_by": user},
        nursery=incident.nursery, url=_incident_url(incident),
    )
    return incident


def decide_outcome(
    user, *, incident: Incident, outcome: str, reason: str, decided_on: date, now: datetime | None = None
) -> Incident:
    now = now or timezone.now()
    label = Outcome(outcome).label if outcome in Outcome.values else ""
    with _incident_action(user, incident, "decide_outcome", f"Outcome decided: {label}") as incident:
        if outcome not in Outcome.values:
            raise ServiceError("Choose the outcome.")
        if not (reason or "").strip():
            raise ServiceError("Give the reason for the outcome; the staff member is told it.")
        if decided_on > local_date(now) or decided_on < incident.occurred_on:
            raise ServiceError("The outcome date must be between the day it happened and today.")
        incident.outcome, incident.outcome_reason = outcome, reason.strip()
        incident.outcome_decided_on, incident.outcome_decided_by = decided_on, user
    _tell_subject(incident, "staff_conduct/email/outcome_to_subject.txt")
    return incident


def close_incident(user, *, incident: Incident, now: datetime | None = None) -> Incident:
    now = now or timezone.now()
    with _incident_action(user, incident, "close", "Incident closed") as incident:
        incident.closed_at, incident.closed_by = now, user
    return incident


def record_appeal(
    user, *, incident: Incident, received_on: date, grounds: str, now: datetime | None = None
) -> Incident:
    """The staff member appealed (in writing, to the manager): leadership records it, which reopens the case."""
    now = now or timezone.now()
    with _incident_action(user, incident, "record_appeal", "Appeal received") as incident:
        if received_on > local_date(now) or received_on < incident.outcome_decided_on:
            raise ServiceError("The appeal date must be between the outcome date and today.")
        deadline = incident.appeal_deadline()
        if received_on > deadline:
            raise ServiceError(
                f"The appeal window closed on {deadline:%-d %B %Y} "
                f"({incident.nursery.appeal_window_days} days after the outcome)."
            )
        if not (grounds or "").strip():
            raise ServiceError("Record the grounds of the appeal.")
        incident.appeal_received_on, incident.appeal_grounds = received_on, grounds.strip()
        incident.closed_at = incident.closed_by = None
    notify(
        _leaders_to_tell(incident, exclude=[user]), f"Appeal received on conduct incident {incident.reference}",
        "nursery/email/message.txt",
        {"message": f"An appeal against the outcome of conduct incident {incident.reference} has been "
                    "recorded. A member of the leadership team who did not decide the outcome should hear it."},
        nursery=incident.nursery, url=_incident_url(incident),
    )
    return incident


def decide_appeal(
    user, *, incident: Incident, decision: str, reason: str, decided_on: date, varied_outcome: str = "",
    now: datetime | None = None,
) -> Incident:
    now = now or timezone.now()
    label = AppealDecision(decision).label if decision in AppealDecision.values else ""
    with _incident_action(user, incident, "decide_appeal", f"Appeal decided: {label}") as incident:
        if incident.outcome_decided_by_id == user.pk:
            raise ServiceError("The appeal must be heard by a different leader from the one who decided the outcome.")
        if decision not in AppealDecision.values:
            raise ServiceError("Choose the appeal decision.")
        if decision == AppealDecision.VARIED:
            if varied_outcome not in Outcome.values or varied_outcome == incident.outcome:
                raise ServiceError("When the outcome is varied, choose the new outcome (different from the old one).")
        else:
            varied_outcome = ""
        if not (reason or "").strip():
            raise ServiceError("Give the reason for the appeal decision; the staff member is told it.")
        if decided_on > local_date(now) or decided_on < incident.appeal_received_on:
            raise ServiceError("The appeal decision date must be between the day the appeal came and today.")
        incident.appeal_decision, incident.varied_outcome = decision, varied_outcome
        incident.appeal_reason = reason.strip()
        incident.appeal_decided_on, incident.appeal_decided_by = decided_on, user
        incident.closed_at, incident.closed_by = now, user
    _tell_subject(incident, "staff_conduct/email/appeal_decision_to_subject.txt")
    return incident


def _tell_subject(incident: Incident, template: str) -> None:
    # The subject is told by notification only: no link, because they may never open the record.
    notify(
        [incident.subject], "The outcome of a conduct investigation", template,
        {"incident": incident, "nursery": incident.nursery, "manager": incident.nursery.manager,
         "appeal_deadline": incident.appeal_deadline()},
        nursery=incident.nursery, url="",
    )


def add_investigation_note(user, *, incident: Incident, text: str, now: datetime | None = None) -> InvestigationNote:
    now = now or timezone.now()
    text = (text or "").strip()
    if not text:
        raise ServiceError("Write the note first.")
    with _incident_action(user, incident, None, "Investigation note added") as incident:
        return InvestigationNote.objects.create(incident=incident, author=user, written_at=now, text=text)


def add_evidence(
    user, *, incident: Incident, upload, description: str = "", now: datetime | None = None
) -> Evidence:
    now = now or timezone.now()
    if upload is None:
        raise ServiceError("Choose a file.")
    checked = check_evidence(upload)
    with _incident_action(user, incident, None, "Evidence added") as incident:
        return _store_evidence(incident, upload, checked, uploaded_by=user, description=description, now=now)


# --- Escalation ----------------------------------------------------------------------------------


def escalate_incidents(*, now: datetime, nursery_id: int | None = None) -> int:
    """Tell the manager about incidents not assigned within 2 working days or past their investigation due
    date: once per incident and missed deadline, however often this runs."""
    incidents = Incident.objects.filter(status__in=[Status.REPORTED, Status.UNDER_INVESTIGATION])
    if nursery_id:
        incidents = incidents.filter(nursery_id=nursery_id)
    # Deadlines are computed here, in local time; only reported incidents or those with a due date qualify.
    incidents = incidents.filter(Q(status=Status.REPORTED) | Q(investigation_due_on__lte=local_date(now)))
    already = set(
        IncidentEscalation.objects.filter(incident__in=incidents).values_list("incident_id", "reason", "deadline")
    )
    sent = 0
    for incident in incidents.select_related("nursery", "nursery__manager", "subject").order_by("pk"):
        if incident.status == Status.REPORTED:
            reason, deadline = EscalationReason.NOT_ASSIGNED, add_working_days(
                incident.reported_at, ASSIGNMENT_WORKING_DAYS
            )
        else:
            reason, deadline = EscalationReason.OVERDUE, end_of_day(incident.investigation_due_on)
        if now < deadline or (incident.pk, reason, deadline) in already:
            continue
        try:
            sent += _escalate(incident, reason=reason, deadline=deadline, now=now)
        except Exception:  # noqa: BLE001 - one incident must not stop the others; the next run tries it again
            logger.exception("Escalating incident %s failed", incident.pk)
    return sent


def _escalate(incident: Incident, *, reason: str, deadline: datetime, now: datetime) -> bool:
    with transaction.atomic(), acting_as(None, "Incident escalated to the manager"):
        try:
            with transaction.atomic():
                escalation, created = IncidentEscalation.objects.get_or_create(
                    incident=incident, reason=reason, deadline=deadline, defaults={"sent_at": now}
                )
        except IntegrityError:  # another run recorded it a moment ago
            return False
        if not created:
            return False
        manager = incident.nursery.manager
        if manager is not None and manager.pk != incident.subject_id and has_role(
            manager, incident.nursery, Role.LEADERSHIP
        ):
            recipients = [manager]
        else:
            recipients = _leaders_to_tell(incident)
        notify(
            recipients, f"Conduct incident {incident.reference}: {escalation.get_reason_display().lower()}",
            "staff_conduct/email/incident_escalation.txt", {"incident": incident, "escalation": escalation},
            nursery=incident.nursery, url=_incident_url(incident),
        )
        return True
