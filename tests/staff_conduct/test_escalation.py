"""Incidents that wait too long reach the manager: 2 working days to assign, and the investigation due date."""

from datetime import date, timedelta

import pytest

from nursery.models import Notification
from staff_conduct import services
from staff_conduct.clock import add_working_days, end_of_day
from staff_conduct.models import EscalationReason, IncidentEscalation, Status
from tests.staff_conduct.factories import IncidentFactory, london

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("reported, deadline", [
    (london(2026, 11, 23, 10, 0), london(2026, 11, 25, 10, 0)),  # Monday -> Wednesday
    (london(2026, 11, 26, 16, 30), london(2026, 11, 30, 16, 30)),  # Thursday -> Monday, over the weekend
    (london(2026, 11, 27, 9, 0), london(2026, 12, 1, 9, 0)),  # Friday -> Tuesday
    (london(2026, 11, 28, 14, 0), london(2026, 12, 2, 0, 0)),  # Saturday: counts from Monday morning
])
def test_two_working_days_skip_the_weekend(reported, deadline):
    assert add_working_days(reported, 2) == deadline


def test_working_days_keep_local_time_across_the_clock_change():
    # Friday 27 March 2026 15:00 GMT; the clocks go forward on Sunday 29 March.
    reported = london(2026, 3, 27, 15, 0)
    deadline = add_working_days(reported, 2)
    assert deadline == london(2026, 3, 31, 15, 0)
    assert deadline.utcoffset() == timedelta(hours=1)  # 14:00 UTC, not 15:00 UTC


def escalate(now, world):
    return services.escalate_incidents(now=now, nursery_id=world.nursery.pk)


def to_manager(world):
    return Notification.objects.filter(recipient=world.leader, subject__contains="Conduct incident")


def test_it_tells_the_manager_when_nobody_is_assigned_within_two_working_days(world):
    IncidentFactory(nursery=world.nursery, subject=world.practitioner, reported_at=london(2026, 11, 27, 15, 0))
    assert escalate(london(2026, 12, 1, 14, 59), world) == 0  # Tuesday, a minute before
    assert escalate(london(2026, 12, 1, 15, 0), world) == 1
    assert to_manager(world).count() == 1
    assert not Notification.objects.filter(recipient=world.deputy).exists()


def test_escalation_across_the_clock_change_uses_london_time(world):
    incident = IncidentFactory(nursery=world.nursery, subject=world.practitioner,
                               reported_at=london(2026, 3, 27, 15, 0))
    # 14:30 UTC on Tuesday is 15:30 in London (BST): past the deadline, though not in UTC arithmetic.
    assert escalate(london(2026, 3, 31, 15, 30), world) == 1
    assert IncidentEscalation.objects.get(incident=incident).reason == EscalationReason.NOT_ASSIGNED


def test_escalation_is_sent_once_however_often_the_task_runs(world):
    IncidentFactory(nursery=world.nursery, subject=world.practitioner, reported_at=london(2026, 11, 23, 9, 0))
    later = london(2026, 11, 26, 8, 0)
    assert [escalate(later + timedelta(hours=h), world) for h in (0, 0, 24)] == [1, 0, 0]
    assert to_manager(world).count() == 1
    assert IncidentEscalation.objects.count() == 1


def test_it_tells_the_manager_when_the_investigation_is_past_its_due_date(world):
    incident = IncidentFactory(
        nursery=world.nursery, subject=world.practitioner, status=Status.UNDER_INVESTIGATION,
        investigator=world.deputy, investigation_due_on=date(2026, 12, 4), reported_at=london(2026, 11, 23, 9, 0),
    )
    assert escalate(london(2026, 12, 4, 23, 59), world) == 0  # still the due date
    assert escalate(london(2026, 12, 5, 0, 0), world) == 1
    escalation = IncidentEscalation.objects.get(incident=incident)
    assert (escalation.reason, escalation.deadline) == (EscalationReason.OVERDUE, end_of_day(date(2026, 12, 4)))
    # A new due date is a new deadline: missing it is told again.
    incident.investigation_due_on = date(2026, 12, 10)
    incident.save()
    assert escalate(london(2026, 12, 9, 9, 0), world) == 0
    assert escalate(london(2026, 12, 11, 9, 0), world) == 1


def test_a_manager_who_is_the_subject_is_not_told_and_the_other_leaders_are(world):
    IncidentFactory(nursery=world.nursery, subject=world.leader, reported_at=london(2026, 11, 23, 9, 0))
    assert escalate(london(2026, 11, 26, 9, 0), world) == 1
    assert not Notification.objects.filter(recipient=world.leader).exists()
    assert Notification.objects.filter(recipient=world.deputy, subject__contains="Conduct incident").count() == 1


def test_closed_and_assigned_incidents_are_not_escalated_for_assignment(world):
    IncidentFactory(nursery=world.nursery, subject=world.practitioner, status=Status.CLOSED,
                    reported_at=london(2026, 11, 2, 9, 0))
    IncidentFactory(nursery=world.nursery, subject=world.practitioner, status=Status.UNDER_INVESTIGATION,
                    investigator=world.deputy, investigation_due_on=date(2026, 12, 20),
                    reported_at=london(2026, 11, 2, 9, 0))
    assert escalate(london(2026, 11, 26, 9, 0), world) == 0


def test_one_incident_failing_does_not_stop_the_others(world, monkeypatch, caplog):
    first, second = (IncidentFactory(nursery=world.nursery, subject=world.practitioner,
                                     reported_at=london(2026, 11, 23, 9, 0)) for _ in range(2))
    real = services._escalate

    def first_breaks(incident, **kwargs):
        if incident.pk == first.pk:
            raise RuntimeError("a broken row")
        return real(incident, **kwargs)

    monkeypatch.setattr(services, "_escalate", first_breaks)
    assert escalate(london(2026, 11, 26, 8, 0), world) == 1
    assert IncidentEscalation.objects.get().incident == second
    assert "Escalating incident" in caplog.text
