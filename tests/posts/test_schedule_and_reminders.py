"""Scheduled publication and the daily reminder of posts waiting for approval."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import Scope
from posts import services, tasks
from posts.models import PostStatus, Publication
from tests.factories import grant

S = PostStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduled(world, make_post):
    """Approved by the leader, due in an hour."""
    grant(world.child, Scope.CLOSED, guardian=world.parent)
    when = timezone.now() + timedelta(hours=1)
    post = make_post(scheduled_for=when)
    post = services.submit_post(world.practitioner, post=post).post
    return services.approve_post(world.leader, post=post, version=post.version)


def test_it_publishes_an_approved_post_at_its_time_and_only_once(world, scheduled):
    assert services.due_scheduled_posts(now=scheduled.scheduled_for - timedelta(minutes=1)) == []
    at = scheduled.scheduled_for + timedelta(minutes=2)
    assert services.publish_scheduled_post(post_id=scheduled.pk, now=at) is True
    assert services.publish_scheduled_post(post_id=scheduled.pk, now=at) is False
    scheduled.refresh_from_db()
    assert scheduled.status == S.PUBLISHED and scheduled.published_at == at
    [publication] = Publication.objects.all()
    assert publication.published_by == world.leader
    event = scheduled.events.last()
    assert event.action == "published" and event.actor is None and "as approved by" in event.note


def test_the_beat_task_publishes_what_is_due(world, scheduled, monkeypatch):
    monkeypatch.setattr(tasks.timezone, "now", lambda: scheduled.scheduled_for + timedelta(minutes=1))
    assert tasks.publish_due_posts.delay().get() == 1


def test_it_holds_a_scheduled_post_when_a_child_has_left_and_says_why(world, scheduled):
    world.child.left_on = timezone.localdate()
    world.child.save()
    assert services.publish_scheduled_post(post_id=scheduled.pk, now=scheduled.scheduled_for) is False
    scheduled.refresh_from_db()
    assert scheduled.status == S.DRAFT and not Publication.objects.exists()
    assert "Not published at its scheduled time" in scheduled.consent_note
    assert "left nursery" in scheduled.consent_note
    told = world.leader.notifications.get(subject="A scheduled post was held")
    assert "Amara Okafor" in told.body
    assert world.practitioner.notifications.filter(subject="A scheduled post was held").exists()


def test_it_holds_a_scheduled_post_whose_approver_left_leadership(world, scheduled):
    world.leader.memberships.filter(role="leadership").delete()
    world.leader.__dict__.pop("_roles_cache", None)
    assert services.publish_scheduled_post(post_id=scheduled.pk, now=scheduled.scheduled_for) is False
    scheduled.refresh_from_db()
    assert "no longer in the leadership team" in scheduled.consent_note


def test_a_post_not_approved_by_its_time_is_not_published_and_leadership_is_told_once(world, make_post):
    post = make_post(scheduled_for=timezone.now() + timedelta(hours=1))
    services.submit_post(world.practitioner, post=post)
    late = post.scheduled_for + timedelta(minutes=5)
    assert services.due_scheduled_posts(now=late) == []
    assert services.hold_unapproved_schedules(now=late) == 1
    assert services.hold_unapproved_schedules(now=late + timedelta(minutes=5)) == 0
    assert world.leader.notifications.filter(subject="A scheduled post was not published").count() == 1


class TestApprovalReminders:
    def test_posts_waiting_over_a_day_remind_leadership_daily(self, world, make_post):
        grant(world.child, Scope.CLOSED)
        submitted_at = timezone.now() - timedelta(hours=30)
        post = services.submit_post(world.practitioner, post=make_post(), now=submitted_at).post
        fresh = services.submit_post(world.practitioner, post=make_post(caption="Fresh"), now=timezone.now()).post
        now = timezone.now()
        assert services.remind_waiting_approvals(now=now) == 1
        assert services.remind_waiting_approvals(now=now + timedelta(hours=2)) == 0
        reminder = world.leader.notifications.get(subject="1 post waiting for approval")
        assert str(post) in reminder.body and str(fresh) not in reminder.body
        assert services.remind_waiting_approvals(now=now + timedelta(days=1)) == 2

    def test_one_nursery_failing_does_not_stop_the_others(self, world, make_post, monkeypatch, caplog):
        from tests.posts.factories import ChannelFactory, PostFactory, PostImageFactory

        grant(world.child, Scope.CLOSED)
        long_ago = timezone.now() - timedelta(hours=30)
        services.submit_post(world.practitioner, post=make_post(), now=long_ago)
        other = PostFactory(nursery=world.other_nursery, author=world.outsider,
                            channels=[ChannelFactory(nursery=world.other_nursery, audience=Scope.CLOSED)])
        PostImageFactory(post=other, children=[], no_identifiable_child=True)
        services.submit_post(world.outsider, post=other, now=long_ago)
        real = services._remind_approvals

        def ours_breaks(nursery, waiting, now):
            if nursery == world.nursery:
                raise RuntimeError("a broken row")
            return real(nursery, waiting, now)

        monkeypatch.setattr(services, "_remind_approvals", ours_breaks)
        assert services.remind_waiting_approvals(now=timezone.now()) == 1
        assert "Approval reminders for" in caplog.text

    def test_the_task_runs_the_reminder(self, world):
        assert tasks.remind_waiting_approvals.delay().get() == 0
