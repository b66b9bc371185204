"""Escalation on a clock: targets from the nursery's settings, each escalation sent once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.models import Action, Escalation, ItemStatus, Priority
from moderation.services import escalate_overdue, resolve_item
from nursery.models import Notification
from tests.moderation.factories import ChannelFactory, CommentFactory, ItemFactory

T0 = timezone.now().replace(microsecond=0)


@pytest.fixture
def make_item(world):
    channel = ChannelFactory(nursery=world.nursery)

    def _make(priority=Priority.HIGH, opened_at=T0):
        return ItemFactory(comment=CommentFactory(channel=channel), priority=priority, opened_at=opened_at)

    return _make


def sent(subject_start):
    return set(Notification.objects.filter(subject__startswith=subject_start)
               .values_list("recipient__username", flat=True))


def test_nothing_happens_before_the_target(world, make_item):
    make_item(Priority.HIGH)
    assert escalate_overdue(now=T0 + timedelta(minutes=59)) == 0
    assert not Escalation.objects.exists()


def test_past_its_target_the_lead_and_leadership_are_told_once(world, make_item):
    item = make_item(Priority.HIGH)
    assert escalate_overdue(now=T0 + timedelta(minutes=61)) == 1
    assert sent("A moderation item is past") == {"dsl", "leader", "deputy"}
    assert escalate_overdue(now=T0 + timedelta(minutes=62)) == 0
    assert escalate_overdue(now=T0 + timedelta(minutes=90)) == 0
    assert Notification.objects.filter(subject__startswith="A moderation item is past").count() == 3
    item.refresh_from_db()
    assert item.escalated_at is None


def test_past_twice_its_target_the_manager_is_told_again_and_it_is_marked_escalated(world, make_item):
    item = make_item(Priority.MEDIUM)  # target 240 minutes by default
    escalate_overdue(now=T0 + timedelta(minutes=241))
    assert escalate_overdue(now=T0 + timedelta(minutes=479)) == 0
    assert escalate_overdue(now=T0 + timedelta(minutes=481)) == 1
    assert sent("Escalated:") == {"leader"}
    item.refresh_from_db()
    assert item.escalated_at == T0 + timedelta(minutes=481)
    assert escalate_overdue(now=T0 + timedelta(days=3)) == 0
    assert [a.kind for a in item.actions.all()] == ["overdue", "escalated"]


def test_targets_come_from_the_nursery_settings(world, make_item):
    world.nursery.moderation_target_low_minutes = 30
    world.nursery.save()
    make_item(Priority.ACKNOWLEDGE)
    make_item(Priority.LOW)
    assert escalate_overdue(now=T0 + timedelta(minutes=29)) == 0
    assert escalate_overdue(now=T0 + timedelta(minutes=31)) == 2


def test_concerns_use_the_high_target(world):
    from moderation.services import raise_concern

    raise_concern(world.parent, nursery=world.nursery, description="Worried", now=T0)
    assert escalate_overdue(now=T0 + timedelta(minutes=59)) == 0
    assert escalate_overdue(now=T0 + timedelta(minutes=61)) == 1


def test_resolved_items_do_not_escalate(world, make_item):
    item = make_item(Priority.HIGH)
    resolve_item(world.dsl, item_id=item.pk, action=Action.NO_CONCERN, reason="fine", now=T0 + timedelta(minutes=5))
    assert escalate_overdue(now=T0 + timedelta(hours=5)) == 0


def test_a_task_run_long_after_sends_both_levels_once(world, make_item):
    make_item(Priority.HIGH)
    assert escalate_overdue(now=T0 + timedelta(hours=3)) == 2
    assert escalate_overdue(now=T0 + timedelta(hours=4)) == 0


def test_a_reopened_item_starts_a_new_clock(world, make_item):
    item = make_item(Priority.HIGH)
    escalate_overdue(now=T0 + timedelta(minutes=61))
    item.status, item.round, item.opened_at = ItemStatus.REOPENED, 2, T0 + timedelta(hours=2)
    item.save()
    assert escalate_overdue(now=T0 + timedelta(hours=2, minutes=30)) == 0
    assert escalate_overdue(now=T0 + timedelta(hours=3, minutes=1)) == 1


def test_the_beat_task_runs_every_five_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["moderation-escalate-overdue-items"]
    assert entry["task"] == "moderation.tasks.escalate_overdue_items"
    assert str(entry["schedule"]._orig_minute) == "*/5"


def test_the_task_calls_the_service(world, make_item):
    from moderation.tasks import escalate_overdue_items

    make_item(Priority.HIGH, opened_at=timezone.now() - timedelta(hours=1, minutes=1))
    assert escalate_overdue_items.delay().get() == 1


def test_one_item_failing_does_not_stop_the_others(world, make_item, monkeypatch, caplog):
    from moderation import services

    first, second = make_item(Priority.HIGH), make_item(Priority.HIGH)
    real = services._escalate

    def broken_for_the_first(item_id, **kwargs):
        if item_id == first.pk:
            raise RuntimeError("a broken row")
        return real(item_id, **kwargs)

    monkeypatch.setattr(services, "_escalate", broken_for_the_first)
    assert escalate_overdue(now=T0 + timedelta(minutes=61)) == 1
    assert Escalation.objects.get().item_id == second.pk
    assert "Escalating moderation item" in caplog.text


def test_a_broker_outage_does_not_stop_the_sweep_and_the_emails_follow(world, make_item, monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    from django.core import mail
    from kombu.exceptions import OperationalError

    from nursery import outbox
    from nursery.tasks import run_outbox_message

    for _ in range(3):
        make_item(Priority.HIGH)

    def refuse(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(run_outbox_message, "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_overdue(now=T0 + timedelta(minutes=61)) == 3
    assert not mail.outbox
    monkeypatch.undo()
    outbox.dispatch()
    assert len(mail.outbox) == 9  # three items, told to the lead and two leaders each
