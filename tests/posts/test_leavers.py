"""A child who leaves: on the leaving date their published photos come down and their drafts stop."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.http import Http404
from django.utils import timezone

from consent.models import Scope
from people.services import mark_child_leaving, retire_leavers
from posts.models import PostStatus, Takedown
from posts.services import open_missed_takedowns
from posts.signed_media import image_for_token, sign_image
from tests.posts.test_withdrawal import through

S = PostStatus
LONDON = ZoneInfo("Europe/London")
pytestmark = pytest.mark.django_db


@pytest.fixture
def consented(world):
    from tests.factories import grant

    grant(world.child, Scope.CLOSED, Scope.PUBLIC, guardian=world.parent)


def london(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def test_a_leaving_date_of_today_takes_published_posts_down_and_sends_drafts_back_at_once(
    world, consented, make_post, django_capture_on_commit_callbacks,
):
    published = through(world, make_post(), S.PUBLISHED)
    submitted = through(world, make_post(), S.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        mark_child_leaving(world.leader, child=world.child, left_on=timezone.localdate(), reason="Starting school")
    takedown = Takedown.objects.get()
    assert takedown.post == published and takedown.child == world.child
    assert "Amara Okafor left the nursery on" in takedown.reason
    assert world.leader.notifications.filter(subject="Take a post down: child left").exists()
    submitted.refresh_from_db()
    assert submitted.status == S.DRAFT and "left the nursery" in submitted.consent_note


def test_a_future_leaving_date_acts_on_the_day_and_only_once(
    world, consented, make_post, django_capture_on_commit_callbacks,
):
    through(world, make_post(), S.PUBLISHED)
    leaving = timezone.localdate() + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        mark_child_leaving(world.leader, child=world.child, left_on=leaving, reason="Moving away")
    assert not Takedown.objects.exists()
    eve = london(leaving - timedelta(days=1), 23, 59)
    with django_capture_on_commit_callbacks(execute=True):
        assert retire_leavers(now=eve) == 0
    assert not Takedown.objects.exists()
    morning = london(leaving, 0, 5)
    with django_capture_on_commit_callbacks(execute=True):
        assert retire_leavers(now=morning) == 1
    assert Takedown.objects.get().opened_at == morning
    with django_capture_on_commit_callbacks(execute=True):
        assert retire_leavers(now=morning + timedelta(hours=1)) == 0
    assert Takedown.objects.count() == 1


def test_the_takedown_sweep_finds_a_leaver_whose_follow_up_never_ran(world, consented, make_post):
    through(world, make_post(), S.PUBLISHED)
    type(world.child).objects.filter(pk=world.child.pk).update(left_on=timezone.localdate())
    assert open_missed_takedowns() == 1
    assert "left the nursery" in Takedown.objects.get().reason


def test_the_signed_photo_address_stops_working_from_the_leaving_date(world, consented, make_post):
    post = through(world, make_post(), S.APPROVED)
    token = sign_image(post.images.get(), scope=Scope.CLOSED)
    mark_child_leaving(world.leader, child=world.child, left_on=timezone.localdate() + timedelta(days=1),
                       reason="Moving away")
    assert image_for_token(token)  # still on roll today
    type(world.child).objects.filter(pk=world.child.pk).update(left_on=timezone.localdate())
    with pytest.raises(Http404):
        image_for_token(token)
