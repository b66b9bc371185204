"""When consent is withdrawn: unpublished posts go back to draft, published ones get a takedown."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import Scope
from consent.services import withdraw_consent
from nursery.errors import ServiceError
from posts import services
from posts.models import PostStatus, Takedown
from tests.factories import grant

S = PostStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def capture_on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def consented(world):
    grant(world.child, Scope.CLOSED, Scope.PUBLIC, guardian=world.parent)


def through(world, post, status):
    if status == S.DRAFT:
        return post
    post = services.submit_post(world.practitioner, post=post).post
    if status == S.SUBMITTED:
        return post
    post = services.approve_post(world.leader, post=post, version=post.version)
    if status == S.APPROVED:
        return post
    services.publish_post(world.leader, post=post)
    post.refresh_from_db()
    return post


def withdraw(world, scope, capture):
    with capture(execute=True):
        return withdraw_consent(world.parent, child=world.child, scope=scope)


@pytest.mark.parametrize("status", [S.DRAFT, S.SUBMITTED, S.APPROVED])
def test_withdrawal_sends_unpublished_posts_back_to_draft_with_a_note(
    status, world, consented, make_post, capture_on_commit,
):
    post = through(world, make_post(), status)
    withdraw(world, Scope.CLOSED, capture_on_commit)
    post.refresh_from_db()
    assert post.status == S.DRAFT and post.approved_version is None
    assert "Amara Okafor's closed (parents' pages) photo consent was withdrawn" in post.consent_note
    event = post.events.last()
    assert event.action == "returned_to_draft" and event.actor is None and event.from_status == status
    assert world.practitioner.notifications.filter(subject__contains="consent withdrawn").exists()
    with pytest.raises(ServiceError):
        services.approve_post(world.leader, post=services.submit_post(world.practitioner, post=post).post,
                              version=post.version)


def test_withdrawal_in_another_scope_leaves_the_post_alone(world, consented, make_post, capture_on_commit):
    post = through(world, make_post(), S.APPROVED)
    withdraw(world, Scope.PUBLIC, capture_on_commit)
    post.refresh_from_db()
    assert post.status == S.APPROVED and post.consent_note == ""


def test_withdrawal_opens_a_takedown_on_published_posts_in_the_scope(
    world, consented, make_post, public_channel, closed_channel, capture_on_commit,
):
    post = through(world, make_post(channels=[closed_channel, public_channel]), S.PUBLISHED)
    decision = withdraw(world, Scope.PUBLIC, capture_on_commit)
    takedown = Takedown.objects.get()
    assert (takedown.post, takedown.child, takedown.scope) == (post, world.child, Scope.PUBLIC)
    assert takedown.deadline == decision.decided_at + timedelta(hours=24)
    assert "Public Facebook Page" in takedown.reason and "Families group" not in takedown.reason
    assert world.leader.notifications.filter(subject="Take a post down: consent withdrawn").exists()
    assert post.events.last().action == "takedown_opened"
    # Running the follow-up again opens nothing new.
    assert services.handle_consent_withdrawal(child_id=world.child.pk, scope=Scope.PUBLIC) == {
        "sent_back": 0, "takedowns": 0,
    }


def test_the_takedown_deadline_follows_the_nursery_setting(world, consented, make_post, capture_on_commit):
    world.nursery.takedown_deadline_hours = 4
    world.nursery.save()
    through(world, make_post(), S.PUBLISHED)
    decision = withdraw(world, Scope.CLOSED, capture_on_commit)
    assert Takedown.objects.get().deadline == decision.decided_at + timedelta(hours=4)


def test_confirming_a_takedown_removes_the_post_in_that_scope(
    world, consented, make_post, public_channel, closed_channel, capture_on_commit,
):
    post = through(world, make_post(channels=[closed_channel, public_channel]), S.PUBLISHED)
    withdraw(world, Scope.PUBLIC, capture_on_commit)
    takedown = Takedown.objects.get()
    with pytest.raises(ServiceError, match="Only the leadership team"):
        services.confirm_takedown(world.practitioner, takedown=takedown)
    services.confirm_takedown(world.deputy, takedown=takedown, note="Deleted from the Page.")
    takedown.refresh_from_db()
    assert takedown.confirmed_by == world.deputy and takedown.confirmation_note == "Deleted from the Page."
    live = {p.channel.name: p.removed_at for p in post.publications.select_related("channel")}
    assert live["Families group"] is None and live["Public Facebook Page"] is not None
    post.refresh_from_db()
    assert post.status == S.PUBLISHED  # still rightly on the parents' group
    with pytest.raises(ServiceError, match="already confirmed"):
        services.confirm_takedown(world.deputy, takedown=takedown)


def test_confirming_the_last_channel_takes_the_post_down(world, consented, make_post, capture_on_commit):
    post = through(world, make_post(), S.PUBLISHED)
    withdraw(world, Scope.CLOSED, capture_on_commit)
    services.confirm_takedown(world.leader, takedown=Takedown.objects.get())
    post.refresh_from_db()
    assert post.status == S.TAKEN_DOWN
    last = post.events.last()
    assert (last.action, last.from_status, last.to_status) == ("takedown_confirmed", S.PUBLISHED, S.TAKEN_DOWN)


class TestEscalation:
    @pytest.fixture
    def takedown(self, world, consented, make_post, capture_on_commit):
        through(world, make_post(), S.PUBLISHED)
        withdraw(world, Scope.CLOSED, capture_on_commit)
        return Takedown.objects.get()

    def overdue_notices(self, user):
        return user.notifications.filter(subject="Overdue: a post must be taken down").count()

    def test_nothing_before_the_deadline(self, world, takedown):
        assert services.escalate_overdue_takedowns(now=takedown.deadline - timedelta(minutes=1)) == 0

    def test_at_the_deadline_and_every_24_hours_after_recorded_and_once_each(self, world, takedown):
        assert services.escalate_overdue_takedowns(now=takedown.deadline) == 1
        assert services.escalate_overdue_takedowns(now=takedown.deadline + timedelta(hours=1)) == 0
        assert self.overdue_notices(world.leader) == 1 and self.overdue_notices(world.deputy) == 1
        assert services.escalate_overdue_takedowns(now=takedown.deadline + timedelta(hours=24)) == 1
        takedown.refresh_from_db()
        assert takedown.escalations == 2
        assert takedown.post.events.filter(action="takedown_escalated").count() == 2
        assert takedown.history.filter(history_change_reason="Takedown overdue").count() == 2

    def test_a_confirmed_takedown_stops_escalating(self, world, takedown):
        services.confirm_takedown(world.leader, takedown=takedown)
        assert services.escalate_overdue_takedowns(now=takedown.deadline + timedelta(days=3)) == 0

    def test_one_takedown_failing_does_not_stop_the_others(self, world, takedown, monkeypatch, caplog):
        real = services._escalate_takedown
        broken = takedown.pk

        def first_breaks(due, takedown_id, now):
            if takedown_id == broken:
                raise RuntimeError("a broken row")
            return real(due, takedown_id, now)

        second = Takedown.objects.get(pk=takedown.pk)
        second.pk, second.scope = None, Scope.PUBLIC
        second.save()  # a second overdue takedown, just after the broken one
        monkeypatch.setattr(services, "_escalate_takedown", first_breaks)
        assert services.escalate_overdue_takedowns(now=takedown.deadline) == 1
        assert "Escalating takedown" in caplog.text

    def test_the_task_escalates(self, world, takedown, monkeypatch):
        from posts import tasks

        monkeypatch.setattr(services.timezone, "now", lambda: takedown.deadline + timedelta(minutes=5))
        assert tasks.escalate_overdue_takedowns.delay().get() == 1


def test_a_parent_withdrawing_in_one_step_reaches_every_post(world, consented, make_post, capture_on_commit):
    drafts = [make_post() for _ in range(3)]
    published = through(world, make_post(), S.PUBLISHED)
    withdraw(world, Scope.CLOSED, capture_on_commit)
    assert all(p.consent_note for p in type(published).objects.filter(pk__in=[d.pk for d in drafts]))
    assert Takedown.objects.filter(post=published, confirmed_at__isnull=True).count() == 1
    assert timezone.now() < Takedown.objects.get().deadline


def test_a_failing_follow_up_does_not_break_the_withdrawal_and_the_sweep_opens_the_takedown(
    world, consented, make_post, capture_on_commit, monkeypatch,
):
    from posts import receivers, tasks

    post = through(world, make_post(), S.PUBLISHED)

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(receivers, "handle_consent_withdrawal", broken)
    withdraw(world, Scope.CLOSED, capture_on_commit)  # the parent's withdrawal still stands
    assert not Takedown.objects.exists()
    tasks.escalate_overdue_takedowns.delay().get()
    takedown = Takedown.objects.get()
    assert takedown.post == post and takedown.child == world.child
    assert services.open_missed_takedowns() == 0  # and only once


def test_a_process_that_dies_after_the_withdrawal_commits_leaves_the_follow_up_to_the_outbox(
    world, consented, make_post, capture_on_commit, drain_outbox,
):
    from nursery.models import OutboxMessage

    published, draft = through(world, make_post(), S.PUBLISHED), through(world, make_post(), S.SUBMITTED)
    with capture_on_commit(execute=False):  # committed, then the process died before its after-commit work
        withdraw_consent(world.parent, child=world.child, scope=Scope.CLOSED)
    assert not Takedown.objects.exists()
    assert OutboxMessage.objects.filter(task_name="consent.tasks.announce_consent_withdrawn", state="pending").exists()
    drain_outbox()
    draft.refresh_from_db()
    assert Takedown.objects.get().post == published and draft.status == S.DRAFT and draft.consent_note
    drain_outbox()  # delivered again (at least once): nothing new
    assert Takedown.objects.count() == 1


def test_the_sweep_leaves_posts_alone_while_consent_holds(world, consented, make_post):
    through(world, make_post(), S.PUBLISHED)
    assert services.open_missed_takedowns() == 0


def test_removing_the_guardian_whose_grant_it_was_takes_published_posts_down(
    world, consented, make_post, capture_on_commit,
):
    from nursery.services import remove_guardian

    post = through(world, make_post(), S.PUBLISHED)
    with capture_on_commit(execute=True):
        remove_guardian(world.leader, guardianship=world.child.guardianships.get(user=world.parent),
                        reason="Recorded in error")
    takedown = Takedown.objects.get()
    assert takedown.post == post and takedown.child == world.child and takedown.scope == Scope.CLOSED
