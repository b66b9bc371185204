"""The outbox: side effects are rows in the caller's transaction, sent after commit or by the dispatcher."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from consent.models import ConsentDecision, Decision, Scope
from nursery import outbox
from nursery.models import Notification, OutboxMessage
from nursery.services import notify
from nursery.tasks import run_outbox_message, send_notification_email, send_notification_emails
from tests.consent.factories import wordings
from tests.factories import grant

pytestmark = pytest.mark.django_db
State = OutboxMessage.State


@pytest.fixture
def broker_down(monkeypatch):
    """Every publish fails as kombu fails when Redis refuses the connection."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(run_outbox_message, "apply_async", refuse)
    return calls


def email(world, subject="Escalation"):
    [notification_id] = notify([world.dsl], subject, "nursery/email/message.txt", {"message": "x"})
    return OutboxMessage.objects.get(task_name=send_notification_emails.name, args=[[notification_id]])


def test_it_writes_the_row_in_the_callers_transaction(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify([world.dsl], "Never", "nursery/email/message.txt", {"message": "x"})
        assert OutboxMessage.objects.count() == 1
        raise RuntimeError("the change is rolled back")
    assert not OutboxMessage.objects.exists()
    assert not Notification.objects.exists()


def test_it_sends_only_after_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = email(world)
        assert not mail.outbox
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.state == State.DONE and message.attempts == 1 and message.done_at


def test_a_parent_withdraws_while_the_broker_is_down_and_the_dispatcher_emails_later(
    client, world, broker_down, django_capture_on_commit_callbacks, monkeypatch,
):
    texts = wordings(world.nursery)
    grant(world.child, Scope.PUBLIC, guardian=world.parent, wording=texts[Scope.PUBLIC])
    client.force_login(world.parent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("consent:withdraw", args=[world.child.pk, Scope.PUBLIC]),
                               {"seen": ConsentDecision.objects.get().pk})
    assert response.status_code == 302
    assert ConsentDecision.objects.latest("pk").decision == Decision.WITHDRAWN
    assert broker_down, "the fast path was tried"
    assert not mail.outbox
    waiting = list(OutboxMessage.objects.filter(state=State.PENDING))
    assert waiting and all(m.due_at <= timezone.now() for m in waiting)

    monkeypatch.undo()  # the broker is back
    assert outbox.dispatch() == len(waiting)
    assert world.parent.email in [m.to[0] for m in mail.outbox]
    assert not OutboxMessage.objects.exclude(state=State.DONE).exists()
    sent = len(mail.outbox)
    outbox.dispatch(now=timezone.now() + timedelta(hours=1))
    assert len(mail.outbox) == sent, "nothing is sent twice"


def test_a_message_delivered_twice_runs_once(world):
    message = email(world)
    assert outbox.run(message.pk) is True
    assert outbox.run(message.pk) is False
    assert len(mail.outbox) == 1


def test_a_message_running_under_another_workers_lease_is_left_alone(world):
    message = email(world)
    OutboxMessage.objects.filter(pk=message.pk).update(locked_until=timezone.now() + timedelta(minutes=5))
    assert outbox.run(message.pk) is False
    assert not mail.outbox
    # The worker was killed: once its lease runs out the message runs.
    assert outbox.run(message.pk, now=timezone.now() + timedelta(minutes=6)) is True
    assert len(mail.outbox) == 1


def test_a_failure_is_counted_retried_with_backoff_then_dead(world, monkeypatch, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    message = email(world)

    def refuse(*args, **kwargs):
        raise OSError("SMTP server refused")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    assert outbox.run(message.pk) is False
    message.refresh_from_db()
    assert (message.state, message.attempts) == (State.PENDING, 1)
    assert "SMTP server refused" in message.last_error
    assert message.due_at > timezone.now() + timedelta(seconds=50)
    assert outbox.dispatch() == 0, "not due again before its backoff"
    assert outbox.run(message.pk) is False
    message.refresh_from_db()
    assert (message.state, message.attempts) == (State.DEAD, 2)
    assert Notification.objects.get().emailed_at is None


def test_a_worker_killed_every_time_ends_dead_not_forever(world, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    message = email(world)
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=3, locked_until=timezone.now(), sent_at=None)
    assert outbox.dispatch(now=timezone.now() + timedelta(seconds=1)) == 0
    message.refresh_from_db()
    assert message.state == State.DEAD and "too many times" in message.last_error


def test_the_dispatcher_sends_what_is_due_in_bounded_batches(world, broker_down, monkeypatch):
    for person in (world.leader, world.deputy, world.dsl):  # one outbox row each
        notify([person], "Three", "nursery/email/message.txt", {"message": "x"})
    later = timezone.now() + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1)
    monkeypatch.undo()
    assert outbox.dispatch(now=later, batch_size=2) == 3  # two batches
    assert len(mail.outbox) == 3
    assert outbox.dispatch(now=later) == 0


def test_the_dispatcher_stops_at_a_broker_error_and_keeps_the_rest_due(world, broker_down):
    for person in (world.leader, world.deputy):
        notify([person], "Two", "nursery/email/message.txt", {"message": "x"})
    later = timezone.now() + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1)
    assert outbox.dispatch(now=later) == 0
    assert len(broker_down) == 1, "gave up at the first refusal"
    assert OutboxMessage.objects.filter(state=State.PENDING, due_at__lte=timezone.now()).count() == 2


def test_a_key_writes_one_message_however_often_it_is_enqueued(world):
    first = outbox.enqueue(send_notification_email, 1, key="chase:1")
    with transaction.atomic():
        again = outbox.enqueue(send_notification_email, 1, key="chase:1")
    assert again.pk == first.pk
    assert OutboxMessage.objects.count() == 1


def test_a_later_due_time_waits_for_the_dispatcher(world):
    notification_id = notify([world.dsl], "Later", "nursery/email/message.txt", {"message": "x"})[0]
    OutboxMessage.objects.all().delete()
    due = timezone.now() + timedelta(minutes=10)
    outbox.enqueue_at(due, send_notification_email, notification_id)
    assert outbox.dispatch() == 0
    assert outbox.dispatch(now=due) == 1
    assert len(mail.outbox) == 1


def test_done_rows_are_purged_after_the_keeping_period(world):
    message = email(world)
    outbox.run(message.pk)
    outbox.dispatch(now=timezone.now() + timedelta(days=settings.OUTBOX_KEEP_DAYS - 1))
    assert OutboxMessage.objects.filter(pk=message.pk).exists()
    outbox.dispatch(now=timezone.now() + timedelta(days=settings.OUTBOX_KEEP_DAYS + 1))
    assert not OutboxMessage.objects.filter(pk=message.pk).exists()


def test_the_dispatcher_runs_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["nursery-dispatch-outbox"]
    assert entry["task"] == "nursery.tasks.dispatch_outbox"
    assert entry["schedule"].minute == set(range(60))


def test_the_admin_lists_the_outbox_by_state(world, admin_client):
    email(world)
    response = admin_client.get(reverse("admin:nursery_outboxmessage_changelist") + "?state__exact=pending")
    assert response.status_code == 200
    assert "nursery.tasks.send_notification_emails" in response.content.decode()
    assert admin_client.get(reverse("admin:nursery_outboxmessage_add")).status_code == 403


def test_a_backlog_longer_than_the_lease_is_not_queued_twice(world, monkeypatch):
    """Handed to the broker and not started a lease later: lost, or still in a long queue? FIFO says which."""
    for person in (world.leader, world.deputy, world.dsl):
        notify([person], "Backlog", "nursery/email/message.txt", {"message": "x"})
    first, second, third = OutboxMessage.objects.order_by("pk")
    handed = timezone.now()
    OutboxMessage.objects.filter(pk__in=[first.pk, second.pk]).update(sent_at=handed)
    OutboxMessage.objects.filter(pk=third.pk).update(sent_at=handed + timedelta(seconds=5))
    published = []
    monkeypatch.setattr(run_outbox_message, "apply_async", lambda args, **kwargs: published.append(args[0]))
    later = handed + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 60)

    monkeypatch.setattr(outbox, "queued_messages", lambda: 3)  # the workers are still working through the queue
    assert outbox.dispatch(now=later) == 0 and not published, "still queued: not queued twice"

    outbox.run(third.pk)  # a worker finished a message handed over after the first two: theirs were lost
    assert outbox.dispatch(now=later) == 2 and published == [first.pk, second.pk]

    published.clear()
    monkeypatch.setattr(outbox, "queued_messages", lambda: 0)  # nothing waits in the queue: all a lease old go
    assert outbox.dispatch(now=later + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1)) == 2


def test_a_task_with_its_own_time_limits_runs_under_them_and_holds_its_row_as_long(world, monkeypatch, settings):
    from nursery.celery import app

    seen = {}

    @app.task(name="tests.nursery.long_task", time_limit=900, soft_time_limit=840)
    def long_task():
        seen["locked_until"] = OutboxMessage.objects.get(task_name="tests.nursery.long_task").locked_until

    assert outbox.limits(long_task.name) == {"time_limit": 900, "soft_time_limit": 840}
    assert outbox.lease_for(send_notification_emails.name) == outbox.lease(), "under the project's limits"
    settings.OUTBOX_LEASE_SECONDS = 3
    assert outbox.lease_for(send_notification_emails.name) == timedelta(seconds=3)
    assert outbox.lease_for(long_task.name) == timedelta(seconds=960)
    published = []
    monkeypatch.setattr(run_outbox_message, "apply_async", lambda args, **kwargs: published.append(kwargs))
    with transaction.atomic():
        message = outbox.enqueue(long_task)
    outbox.send_now([(message.pk, long_task.name)])
    assert published[0]["time_limit"] == 900 and published[0]["soft_time_limit"] == 840
    assert outbox.run(message.pk) is True
    assert seen["locked_until"] >= timezone.now() + timedelta(seconds=900), "no second copy while it may run"
