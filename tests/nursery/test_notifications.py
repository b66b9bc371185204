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
    [notification] = notify([world.dsl], "Escalation", "nursery/email/message.txt", {"message": "x"})
    assert email_notification(notification_id=notification.pk) is True
    assert email_notification(notification_id=notification.pk) is False
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
