from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from nursery.celery import app
from nursery.models import Notification
from staff_conduct.models import AcknowledgementChase, IncidentEscalation
from staff_conduct.tasks import chase_acknowledgements_task, escalate_incidents_task
from tests.staff_conduct.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_the_beat_schedule_names_real_tasks():
    ours = {name: entry for name, entry in settings.CELERY_BEAT_SCHEDULE.items() if name.startswith("staff-conduct")}
    assert set(ours) == {"staff-conduct-acknowledgement-reminders", "staff-conduct-incident-escalation"}
    for entry in ours.values():
        assert entry["task"] in app.tasks


def test_the_tasks_run_the_services_and_are_safe_twice(world, staff_policy):
    IncidentFactory(nursery=world.nursery, subject=world.practitioner,
                    reported_at=timezone.now() - timedelta(days=7))
    for _ in range(2):
        chase_acknowledgements_task.delay(world.nursery.pk)
        escalate_incidents_task.delay()
    assert AcknowledgementChase.objects.filter(user=world.practitioner).count() == 1
    assert IncidentEscalation.objects.count() == 1
    assert Notification.objects.filter(recipient=world.leader, subject__contains="Conduct incident").count() == 1


def test_one_policy_failing_does_not_stop_the_chase_of_the_others(world, staff_policy, parents_rules, monkeypatch,
                                                                    caplog):
    from staff_conduct import services

    real = services._chase_version

    def staff_policy_breaks(nursery, version_id, **kwargs):
        if version_id == staff_policy.pk:
            raise RuntimeError("a broken row")
        return real(nursery, version_id, **kwargs)

    monkeypatch.setattr(services, "_chase_version", staff_policy_breaks)
    counts = services.chase_acknowledgements(now=timezone.now(), nursery_id=world.nursery.pk)
    assert counts["reminders"] >= 1, "the parents' rules were still chased"
    assert not AcknowledgementChase.objects.filter(version=staff_policy).exists()
    assert AcknowledgementChase.objects.filter(version=parents_rules).exists()
    assert "Acknowledgement chase for policy version" in caplog.text
