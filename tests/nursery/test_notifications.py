from django.core import mail

from nursery.models import Notification
from nursery.services import email_notification, mark_notifications_read, notify


def test_it_stores_an_in_app_notification_and_emails_after_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify([world.leader, world.deputy], "Post waiting", "nursery/email/message.txt",
               {"message": "A post is waiting."}, nursery=world.nursery, url="/posts/1/")
        assert not mail.outbox, "email must wait for the commit"
    assert Notification.objects.filter(subject="Post waiting").count() == 2
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.leader.email, world.deputy.email])
    assert "A post is waiting." in mail.outbox[0].body
    assert "/posts/1/" in mail.outbox[0].body


def test_it_emails_each_notification_once_however_often_the_task_runs(world):
    [notification_id] = notify([world.dsl], "Escalation", "nursery/email/message.txt", {"message": "x"})
    assert email_notification(notification_id=notification_id) is True
    assert email_notification(notification_id=notification_id) is False
    assert len(mail.outbox) == 1


def test_the_navbar_shows_the_unread_count_and_the_list_marks_read(world, client):
    notify([world.parent], "Consent confirmed", "nursery/email/message.txt", {"message": "Thank you."})
    client.force_login(world.parent)
    page = client.get("/")
    assert "1 unread" in page.content.decode()
    listing = client.get("/notifications/")
    assert "Consent confirmed" in listing.content.decode()
    client.post("/notifications/read/")
    assert mark_notifications_read(user=world.parent) == 0
    assert "0 unread" in client.get("/").content.decode()


def test_inactive_users_are_not_notified(world):
    world.practitioner.is_active = False
    world.practitioner.save()
    assert notify([world.practitioner], "x", "nursery/email/message.txt") == []


def test_one_outbox_row_emails_a_batch_and_a_refused_address_does_not_stop_the_others(world, monkeypatch):
    from nursery import outbox
    from nursery.models import OutboxMessage
    from nursery.services import EMAILS_PER_TASK

    people = [world.leader, world.deputy, world.dsl]
    ids = notify(people, "Three", "nursery/email/message.txt", {"message": "x"})
    [message] = OutboxMessage.objects.all()
    assert message.args == [ids] and len(ids) <= EMAILS_PER_TASK
    real = mail.get_connection().__class__.send_messages

    def refuse_the_deputy(self, messages):
        if world.deputy.email in messages[0].to:
            raise OSError("550 mailbox unavailable")
        return real(self, messages)

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse_the_deputy)
    assert outbox.run(message.pk) is False
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.leader.email, world.dsl.email])
    message.refresh_from_db()
    assert "1 of 3 emails not sent" in message.last_error and "550 mailbox unavailable" in message.last_error
    monkeypatch.undo()
    assert outbox.run(message.pk, now=message.due_at) is True, "the retry sends only what is left"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)


def test_a_batch_past_its_time_budget_hands_the_rest_to_a_new_row(world):
    from nursery.models import OutboxMessage
    from nursery.services import email_notifications

    ids = notify([world.leader, world.deputy, world.dsl], "Three", "nursery/email/message.txt", {"message": "x"})
    OutboxMessage.objects.all().delete()
    assert email_notifications(notification_ids=ids, budget=-1) == 0
    [rest] = OutboxMessage.objects.all()
    assert rest.args == [ids] and not mail.outbox
    assert email_notifications(notification_ids=rest.args[0]) == 3
    assert email_notifications(notification_ids=rest.args[0]) == 0
    assert len(mail.outbox) == 3
