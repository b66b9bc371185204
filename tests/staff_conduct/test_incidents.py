"""The incident lifecycle: reported -> under investigation -> outcome decided -> closed (-> appeal -> closed)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from nursery.errors import ServiceError
from nursery.models import Notification
from staff_conduct import services
from staff_conduct.models import (
    AppealDecision,
    ImmutableRowError,
    Incident,
    InvestigationNote,
    Outcome,
    Source,
    Status,
)
from tests.staff_conduct.factories import policy

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def assign(user, incident, investigator=None, due_on=None):
    return services.assign_investigator(user, incident=incident, investigator=investigator or user,
                                        due_on=due_on or TODAY() + timedelta(days=7))


def outcome(user, incident, value=Outcome.WRITTEN_WARNING, **extra):
    return services.decide_outcome(user, incident=incident, outcome=value, reason="Named the nursery.",
                                   decided_on=extra.pop("decided_on", TODAY()), **extra)


def appeal(user, incident, received_on=None):
    return services.record_appeal(user, incident=incident, received_on=received_on or TODAY(), grounds="Too harsh.")


def decide_appeal(user, incident, decision=AppealDecision.DISMISSED, **extra):
    return services.decide_appeal(user, incident=incident, decision=decision, reason="Considered.",
                                  decided_on=TODAY(), **extra)


def test_a_practitioner_reports_a_concern_and_leadership_is_told(world, report):
    incident = report(by=world.practitioner, subject=world.dsl)
    assert (incident.status, incident.reported_by, incident.subject) == (Status.REPORTED, world.practitioner, world.dsl)
    assert incident.clauses.count() == 2
    told = Notification.objects.filter(subject__startswith="Conduct concern reported")
    assert sorted(n.recipient.username for n in told) == ["deputy", "leader"]
    assert told.first().url == f"/conduct/incidents/{incident.pk}/"


@pytest.mark.parametrize("actor", ["parent", "outsider"])
def test_only_staff_of_the_nursery_report_a_concern(world, report, actor):
    with pytest.raises(ServiceError, match="Only members of staff"):
        report(by=world.actor(actor))


def test_it_refuses_a_report_about_yourself_or_about_someone_who_is_not_staff(world, report):
    with pytest.raises(ServiceError, match="about yourself"):
        report(by=world.practitioner, subject=world.practitioner)
    with pytest.raises(ServiceError, match="member of staff"):
        report(subject=world.parent)


def test_it_refuses_clauses_of_another_nursery(world, report):
    other = policy(world.other_nursery)
    with pytest.raises(ServiceError, match="clauses"):
        services.report_incident(world.dsl, nursery=world.nursery, subject=world.practitioner, source=Source.NAMED,
                                 occurred_on=TODAY(), description="x", clauses=list(other.clauses.all()))


def test_the_full_lifecycle_to_a_closed_appeal(world, report):
    incident = report()
    incident = assign(world.leader, incident, investigator=world.deputy)
    assert (incident.status, incident.investigator) == (Status.UNDER_INVESTIGATION, world.deputy)
    incident = outcome(world.deputy, incident, Outcome.FINAL_WRITTEN_WARNING)
    assert incident.status == Status.OUTCOME_DECIDED
    incident = services.close_incident(world.deputy, incident=incident)
    assert incident.status == Status.CLOSED and incident.closed_by == world.deputy
    incident = appeal(world.leader, incident)
    assert incident.status == Status.APPEALED and incident.closed_at is None
    incident = decide_appeal(world.leader, incident, AppealDecision.VARIED, varied_outcome=Outcome.WRITTEN_WARNING)
    assert incident.status == Status.CLOSED
    assert incident.final_outcome == Outcome.WRITTEN_WARNING
    reasons = list(incident.history.order_by("history_date").values_list("history_change_reason", flat=True))
    due = f"{incident.investigation_due_on:%-d %b %Y}"
    assert reasons == ["Conduct concern reported", f"Investigator assigned: Daniel Reid, due {due}",
                       "Outcome decided: Final written warning", "Incident closed", "Appeal received",
                       "Appeal decided: Outcome varied"]


@pytest.mark.parametrize("actor", ["practitioner", "dsl", "parent", "outsider"])
@pytest.mark.parametrize("step", ["assign", "outcome", "close", "appeal", "decide_appeal", "note"])
def test_only_leadership_acts_on_an_incident(world, report, actor, step):
    incident = report()
    prepare = {"assign": [], "outcome": ["assign"], "close": ["assign", "outcome"],
               "appeal": ["assign", "outcome"], "decide_appeal": ["assign", "outcome", "appeal"], "note": []}
    for earlier in prepare[step]:
        incident = run(earlier, world.leader, incident, world)
    before = Incident.objects.get(pk=incident.pk).status
    with pytest.raises(ServiceError, match="Only the leadership team"):
        run(step, world.actor(actor), incident, world)
    assert Incident.objects.get(pk=incident.pk).status == before


def run(step, user, incident, world):
    if step == "assign":
        return assign(user, incident, investigator=world.deputy)
    if step == "outcome":
        return outcome(user, incident)
    if step == "close":
        return services.close_incident(user, incident=incident)
    if step == "appeal":
        return appeal(user, incident)
    if step == "decide_appeal":
        return decide_appeal(user, incident)
    return services.add_investigation_note(user, incident=incident, text="Spoke to them.")


@pytest.mark.parametrize("step, sources", [
    ("outcome", ["reported"]),
    ("close", ["reported", "under_investigation"]),
    ("appeal", ["reported", "under_investigation"]),
    ("decide_appeal", ["reported", "under_investigation", "outcome_decided", "closed"]),
    ("assign", ["outcome_decided", "closed"]),
])
def test_it_refuses_a_transition_from_the_wrong_state(world, report, step, sources):
    path = {"reported": [], "under_investigation": ["assign"], "outcome_decided": ["assign", "outcome"],
            "closed": ["assign", "outcome", "close"]}
    for source in sources:
        incident = report()
        for earlier in path[source]:
            incident = run(earlier, world.leader, incident, world)
        with pytest.raises(ServiceError) as refused:
            run(step, world.deputy, incident, world)
        assert refused.value.message == services.TRANSITIONS[{
            "outcome": "decide_outcome", "appeal": "record_appeal"}.get(step, step)].refusal
        assert Incident.objects.get(pk=incident.pk).status == source


def test_the_investigator_must_be_from_leadership_and_not_the_subject(world, report):
    incident = report()
    with pytest.raises(ServiceError, match="leadership team"):
        assign(world.leader, incident, investigator=world.dsl)
    with pytest.raises(ServiceError, match="past"):
        assign(world.leader, incident, investigator=world.deputy, due_on=TODAY() - timedelta(days=1))
    leader_incident = report(subject=world.deputy)
    with pytest.raises(ServiceError, match="cannot investigate their own"):
        assign(world.leader, leader_incident, investigator=world.deputy)


def test_the_investigator_is_told(world, report):
    assign(world.leader, report(), investigator=world.deputy)
    assert Notification.objects.filter(recipient=world.deputy, subject__startswith="You are investigating").exists()


def test_an_outcome_needs_a_reason_and_a_sensible_date(world, investigating):
    with pytest.raises(ServiceError, match="reason"):
        services.decide_outcome(world.leader, incident=investigating, outcome=Outcome.DISMISSAL, reason=" ",
                                decided_on=TODAY())
    with pytest.raises(ServiceError, match="between"):
        outcome(world.leader, investigating, decided_on=TODAY() + timedelta(days=1))
    with pytest.raises(ServiceError, match="Choose the outcome"):
        outcome(world.leader, investigating, "sacked")


def test_an_appeal_is_accepted_within_the_window_and_refused_after(world, report):
    world.nursery.appeal_window_days = 10
    world.nursery.save()
    investigating = assign(world.leader, report(occurred_on=TODAY() - timedelta(days=20)), investigator=world.deputy)
    decided = outcome(world.leader, investigating, decided_on=TODAY() - timedelta(days=11))
    with pytest.raises(ServiceError, match="appeal window closed"):
        appeal(world.leader, decided, received_on=TODAY())
    accepted = appeal(world.leader, decided, received_on=TODAY() - timedelta(days=1))
    assert accepted.status == Status.APPEALED


def test_there_is_only_one_appeal(world, decided):
    appeal(world.leader, decided)
    done = decide_appeal(world.deputy, decided)
    with pytest.raises(ServiceError, match="only one"):
        appeal(world.deputy, done)


def test_the_appeal_is_heard_by_a_different_leader(world, decided):
    appealed = appeal(world.deputy, decided)
    with pytest.raises(ServiceError, match="different leader"):
        decide_appeal(world.leader, appealed)
    assert decide_appeal(world.deputy, appealed).appeal_decision == AppealDecision.DISMISSED


def test_a_varied_outcome_names_a_different_outcome(world, decided):
    appealed = appeal(world.deputy, decided)
    with pytest.raises(ServiceError, match="new outcome"):
        decide_appeal(world.deputy, appealed, AppealDecision.VARIED, varied_outcome=Outcome.VERBAL_WARNING)
    done = decide_appeal(world.deputy, appealed, AppealDecision.UPHELD)
    assert done.final_outcome == Outcome.NO_FURTHER_ACTION


def test_investigation_notes_are_append_only_with_author_and_time(world, investigating):
    now = timezone.now()
    note = services.add_investigation_note(world.deputy, incident=investigating, text="Met Chloe.", now=now)
    assert (note.author, note.written_at) == (world.deputy, now)
    note.text = "Changed"
    with pytest.raises(ImmutableRowError):
        note.save()
    with pytest.raises(ImmutableRowError):
        InvestigationNote.objects.filter(pk=note.pk).delete()
    with pytest.raises(ServiceError, match="Write the note"):
        services.add_investigation_note(world.deputy, incident=investigating, text="  ")
