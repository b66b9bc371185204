"""The nightly retention run: every boundary of the schedule, holds, files, the log, reruns."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.storage import default_storage

from moderation.models import Action, WebhookDelivery
from nursery.models import Notification
from posts.models import PostImage
from retention import services
from retention.kinds import BY_NAME, months_before
from retention.models import RetentionCount, RetentionRun, RetentionSchedule
from retention.services import place_legal_hold, release_legal_hold, run_retention
from tests.factories import ChildFactory, ConsentDecisionFactory
from tests.retention.factories import (
    closed_incident,
    confirmed_takedown,
    delivery,
    leaver,
    notification,
    photo,
    raised_concern,
    resolved_item,
    today,
)

pytestmark = pytest.mark.django_db


def counts(run):
    return {(c.nursery_id, c.kind): c.count for c in run.counts.all()}


# --- notifications -----------------------------------------------------------------------------------


def test_it_removes_notifications_from_the_day_their_period_ends(world, now):
    kept = notification(world.parent, nursery=world.nursery, at=now - timedelta(days=90) + timedelta(seconds=1))
    gone = notification(world.parent, nursery=world.nursery, at=now - timedelta(days=90))
    run = run_retention(now=now)
    assert list(Notification.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Notification.objects.filter(pk=gone.pk).exists()
    assert counts(run) == {(world.nursery.pk, "notifications"): 1}


def test_it_uses_each_nurserys_own_period(world, now):
    RetentionSchedule.objects.create(nursery=world.nursery, notifications_days=30)
    ours = notification(world.parent, nursery=world.nursery, at=now - timedelta(days=31))
    theirs = notification(world.outsider, nursery=world.other_nursery, at=now - timedelta(days=31))
    run_retention(now=now)
    assert not Notification.objects.filter(pk=ours.pk).exists()
    assert Notification.objects.filter(pk=theirs.pk).exists()  # the other nursery keeps the 90-day default


def test_notifications_of_no_nursery_follow_the_default(world, now):
    old = notification(world.parent, at=now - timedelta(days=91))
    young = notification(world.parent, at=now - timedelta(days=89))
    run = run_retention(now=now)
    assert not Notification.objects.filter(pk=old.pk).exists()
    assert Notification.objects.filter(pk=young.pk).exists()
    assert counts(run) == {(None, "notifications"): 1}


def test_a_legal_hold_on_a_person_keeps_their_notifications(world, now):
    hold = place_legal_hold(world.leader, nursery=world.nursery, person=world.parent, reason="Complaint to Ofsted")
    held = notification(world.parent, nursery=world.nursery, at=now - timedelta(days=200))
    other = notification(world.practitioner, nursery=world.nursery, at=now - timedelta(days=200))
    run_retention(now=now)
    assert Notification.objects.filter(pk=held.pk).exists()
    assert not Notification.objects.filter(pk=other.pk).exists()
    release_legal_hold(world.leader, hold=hold, reason="Complaint closed")
    run_retention(now=now)
    assert not Notification.objects.filter(pk=held.pk).exists()


# --- webhook deliveries --------------------------------------------------------------------------------


def test_it_removes_processed_deliveries_after_thirty_days_and_keeps_unprocessed_ones(world, now, settings):
    settings.RETENTION_WEBHOOK_DAYS = 30
    processed = delivery(at=now - timedelta(days=30))
    failed = delivery(at=now - timedelta(days=45), status=WebhookDelivery.Status.FAILED)
    young = delivery(at=now - timedelta(days=30) + timedelta(seconds=1))
    stuck = delivery(at=now - timedelta(days=60), status=WebhookDelivery.Status.RECEIVED)
    run = run_retention(now=now)
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {young.pk, stuck.pk}
    assert not WebhookDelivery.objects.filter(pk__in=[processed.pk, failed.pk]).exists()
    assert counts(run) == {(None, "webhook_deliveries"): 2}


# --- photos of a child who has left ---------------------------------------------------------------------


def test_photos_of_a_child_go_on_the_thirtieth_day_after_leaving_with_their_files(world, now):
    left_30_days_ago = leaver(world.nursery, left_on=today(now) - timedelta(days=30))
    left_29_days_ago = leaver(world.nursery, left_on=today(now) - timedelta(days=29))
    gone = photo(world.nursery, left_30_days_ago, world.child)  # a group photo goes with the child who left
    kept = photo(world.nursery, left_29_days_ago)
    on_roll = photo(world.nursery, world.child)
    files = [gone.image.name, gone.thumbnail.name]
    assert all(default_storage.exists(name) for name in files)

    run = run_retention(now=now)

    assert set(PostImage.objects.values_list("pk", flat=True)) == {kept.pk, on_roll.pk}
    assert not any(default_storage.exists(name) for name in files)
    assert default_storage.exists(kept.image.name)
    assert not PostImage.history.filter(id=gone.pk).exists()  # the history copies go too
    count = RetentionCount.objects.get(run=run, kind="photos_after_leaving")
    assert (count.nursery_id, count.count, count.files) == (world.nursery.pk, 1, 2)


def test_the_day_a_child_leaves_counts_in_london_not_utc(world):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    child = leaver(world.nursery, left_on=datetime(2026, 6, 1).date())
    image = photo(world.nursery, child)
    # 1 July 00:30 in London is still 30 June in UTC: the thirtieth day after 1 June has come in London.
    run_retention(now=datetime(2026, 7, 1, 0, 30, tzinfo=ZoneInfo("Europe/London")))
    assert not PostImage.objects.filter(pk=image.pk).exists()


def test_a_legal_hold_on_a_child_keeps_every_photo_picturing_them(world, now):
    child = leaver(world.nursery, left_on=today(now) - timedelta(days=400))
    held = photo(world.nursery, child)
    place_legal_hold(world.leader, nursery=world.nursery, child=child, reason="Parent's claim")
    run = run_retention(now=now)
    assert PostImage.objects.filter(pk=held.pk).exists()
    assert default_storage.exists(held.image.name)
    assert run.total == 0


def test_a_legal_hold_on_the_author_keeps_their_posts_photos(world, now):
    child = leaver(world.nursery, left_on=today(now) - timedelta(days=400))
    held = photo(world.nursery, child, author=world.practitioner)
    place_legal_hold(world.leader, nursery=world.nursery, person=world.practitioner, reason="Tribunal")
    run_retention(now=now)
    assert PostImage.objects.filter(pk=held.pk).exists()


# --- photos taken down after a withdrawal ------------------------------------------------------------


def test_photos_go_seven_days_after_the_takedown_is_confirmed(world, now):
    child = ChildFactory(nursery=world.nursery)
    old = photo(world.nursery, child)
    confirmed_takedown(old, child, confirmed_at=now - timedelta(days=7), confirmed_by=world.leader)
    recent = photo(world.nursery, child)
    confirmed_takedown(recent, child, confirmed_at=now - timedelta(days=6, hours=23), confirmed_by=world.leader)
    run = run_retention(now=now)
    assert list(PostImage.objects.values_list("pk", flat=True)) == [recent.pk]
    assert counts(run) == {(world.nursery.pk, "photos_after_takedown"): 1}


def test_only_photos_picturing_the_withdrawn_child_go(world, now):
    child = ChildFactory(nursery=world.nursery)
    pictured = photo(world.nursery, child)
    other_photo = PostImage.objects.create(post=pictured.post, image=pictured.image.name,
                                           thumbnail=pictured.thumbnail.name, alt_text="The garden")
    other_photo.children.set([world.child])
    confirmed_takedown(pictured, child, confirmed_at=now - timedelta(days=30), confirmed_by=world.leader)
    run_retention(now=now)
    assert list(PostImage.objects.values_list("pk", flat=True)) == [other_photo.pk]


def test_an_open_takedown_removes_nothing(world, now):
    child = ChildFactory(nursery=world.nursery)
    image = photo(world.nursery, child)
    takedown = confirmed_takedown(image, child, confirmed_at=now - timedelta(days=30), confirmed_by=world.leader)
    type(takedown).objects.filter(pk=takedown.pk).update(confirmed_at=None, confirmed_by=None)
    run_retention(now=now)
    assert PostImage.objects.filter(pk=image.pk).exists()


# --- the run itself ----------------------------------------------------------------------------------


def test_a_rerun_removes_nothing_and_logs_nothing_removed(world, now):
    notification(world.parent, nursery=world.nursery, at=now - timedelta(days=100))
    first = run_retention(now=now)
    second = run_retention(now=now)
    assert (first.total, second.total) == (1, 0)
    assert second.status == RetentionRun.Status.COMPLETED
    assert not second.counts.exists()


def test_it_works_in_batches_and_logs_one_run_with_kinds_and_counts(world, now):
    for _ in range(5):
        notification(world.parent, nursery=world.nursery, at=now - timedelta(days=100))
    run = run_retention(now=now, batch_size=2)
    assert RetentionRun.objects.count() == 1
    assert run.total == 5 and run.status == RetentionRun.Status.COMPLETED
    assert counts(run) == {(world.nursery.pk, "notifications"): 5}
    assert not Notification.objects.exists()


def test_a_run_out_of_time_stops_between_batches_and_the_next_run_finishes(world, now):
    for _ in range(5):
        notification(world.parent, nursery=world.nursery, at=now - timedelta(days=100))
    ticks = iter(range(100))  # one second passes each time the run looks at the clock
    stopped = run_retention(now=now, batch_size=2, time_budget=3.5, clock=lambda: next(ticks))
    assert stopped.status == RetentionRun.Status.PAUSED
    assert stopped.total == 2
    assert Notification.objects.count() == 5 - stopped.total
    finished = run_retention(now=now, batch_size=2)
    assert finished.status == RetentionRun.Status.COMPLETED
    assert stopped.total + finished.total == 5
    assert not Notification.objects.exists()


def test_the_log_never_holds_content(world, now):
    notification(world.parent, nursery=world.nursery, at=now - timedelta(days=100), subject="Amara Okafor")
    run = run_retention(now=now)
    logged = [str(v) for c in run.counts.values() for v in c.values()]
    assert not any("Amara" in value for value in logged)


def _row_counts():
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()
            if not m._meta.label.startswith(("retention.", "sessions.", "django_celery_beat."))}


def test_nothing_outside_the_schedule_is_ever_deleted(world, now):
    """Young rows of every kind, and rows just inside every boundary: a run leaves every table as it was."""
    child = leaver(world.nursery, left_on=today(now) - timedelta(days=29))
    photo(world.nursery, child)
    photo(world.nursery, world.child)
    taken_down = ChildFactory(nursery=world.nursery)
    confirmed_takedown(photo(world.nursery, taken_down), taken_down, confirmed_at=now - timedelta(days=6),
                       confirmed_by=world.leader)
    notification(world.parent, nursery=world.nursery, at=now - timedelta(days=89))
    delivery(at=now - timedelta(days=29))
    ConsentDecisionFactory(child=leaver(world.nursery, left_on=months_before(today(now), 72) + timedelta(days=1)))
    resolved_item(world, resolved_at=now.replace(year=2026) + timedelta(seconds=1))
    resolved_item(world, resolved_at=now.replace(year=2002) + timedelta(seconds=1), action=Action.ESCALATE)
    resolved_item(world, concern=raised_concern(world), resolved_at=now.replace(year=2024) + timedelta(seconds=1))
    closed_incident(world, closed_at=now.replace(year=2021) + timedelta(seconds=1))
    from people.models import Invitation

    Invitation.objects.create(nursery=world.nursery, user=world.parent, email="g@example.org", role="parent",
                              created_at=now - timedelta(days=400), send_pending=False,
                              accepted_at=now - timedelta(days=89))
    Invitation.objects.create(nursery=world.nursery, user=world.dsl, email="d@example.org", role="staff",
                              created_at=now - timedelta(days=400), send_pending=True)  # open: never removed
    before = _row_counts()
    assert run_retention(now=now).total == 0
    assert _row_counts() == before


def test_every_kind_is_swept_somewhere():
    assert all(kind.nursery_pass or kind.deployment_pass for kind in BY_NAME.values())


def test_the_nightly_task_runs_a_sweep(world, settings):
    from retention.tasks import run_retention_task

    assert settings.CELERY_BEAT_SCHEDULE["retention-nightly"]["task"] == "retention.tasks.run_retention_task"
    pk = run_retention_task.delay().get()
    assert RetentionRun.objects.get(pk=pk).status == RetentionRun.Status.COMPLETED


def test_schedule_for_a_nursery_without_one_is_the_defaults(world):
    schedule = services.schedule_for(world.nursery)
    assert schedule.pk is None and schedule.notifications_days == 90
