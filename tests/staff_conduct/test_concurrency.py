"""Two beat runs at once (a retry racing the next run) still send each message once: PostgreSQL row locks."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from nursery.models import Notification
from staff_conduct import services
from staff_conduct.models import AcknowledgementChase, IncidentEscalation
from tests.staff_conduct.factories import IncidentFactory, london

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(work, times=4):
    barrier = threading.Barrier(times)
    errors = []

    def run():
        try:
            barrier.wait()
            work()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_simultaneous_reminder_runs_remind_each_person_once(postgres, world, staff_policy):
    now = timezone.now()
    at_once(lambda: services.chase_acknowledgements(now=now, nursery_id=world.nursery.pk))
    assert AcknowledgementChase.objects.count() == 4
    assert Notification.objects.filter(recipient=world.practitioner).count() == 1


def test_simultaneous_escalation_runs_tell_the_manager_once(postgres, world):
    IncidentFactory(nursery=world.nursery, subject=world.practitioner, reported_at=london(2026, 11, 23, 9, 0))
    at_once(lambda: services.escalate_incidents(now=london(2026, 11, 26, 9, 0), nursery_id=world.nursery.pk))
    assert IncidentEscalation.objects.count() == 1
    assert Notification.objects.filter(recipient=world.leader).count() == 1
