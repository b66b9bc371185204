"""Special occasions have a window: a post picturing children goes out only from a few days before its occasion
to a set number of days after (a nursery setting), and past occasions leave the New post list."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import Scope
from nursery.errors import ServiceError
from posts import services
from posts.forms import PostForm
from posts.models import PostStatus
from tests.factories import grant
from tests.posts.factories import OccasionFactory


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


def test_a_post_about_an_occasion_400_days_ago_is_refused(world, make_post):
    old = OccasionFactory(nursery=world.nursery, name="Sports day", date=days_ago(400))
    post = make_post(occasion=old, caption="An ordinary Tuesday")
    with pytest.raises(ServiceError, match="“Sports day” was on .* go out between"):
        services.submit_post(world.practitioner, post=post)
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


@pytest.mark.parametrize(("offset", "ok"), [(-7, True), (-8, False), (14, True), (15, False), (0, True)])
def test_the_window_runs_from_days_before_to_days_after(world, make_post, offset, ok):
    occasion = OccasionFactory(nursery=world.nursery, date=days_ago(offset))  # offset > 0: in the past
    post = make_post(occasion=occasion)
    if ok:
        assert services.submit_post(world.practitioner, post=post).post.status == PostStatus.SUBMITTED
    else:
        with pytest.raises(ServiceError, match="go out between"):
            services.submit_post(world.practitioner, post=post)


def test_the_window_is_a_nursery_setting(world, make_post):
    world.nursery.occasion_days_after = 60
    world.nursery.save()
    post = make_post(occasion=OccasionFactory(nursery=world.nursery, date=days_ago(45)))
    assert services.submit_post(world.practitioner, post=post).post.status == PostStatus.SUBMITTED


def test_a_scheduled_post_is_judged_by_its_publication_date(world, make_post):
    occasion = OccasionFactory(nursery=world.nursery, date=days_ago(10))
    post = make_post(occasion=occasion, scheduled_for=timezone.now() + timedelta(days=10))
    with pytest.raises(ServiceError, match="would go out on"):
        services.submit_post(world.practitioner, post=post)


def test_publishing_after_the_window_closed_is_refused(world, make_post):
    grant(world.child, Scope.CLOSED)
    occasion = OccasionFactory(nursery=world.nursery, date=days_ago(0))
    post = make_post(occasion=occasion)
    services.submit_post(world.practitioner, post=post)
    post.refresh_from_db()
    services.approve_post(world.leader, post=post, version=post.version)
    with pytest.raises(ServiceError, match="go out between"):
        services.publish_post(world.leader, post=post, now=timezone.now() + timedelta(days=20))
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


def test_posts_without_children_need_no_window(world, make_post):
    post = make_post(children=[], occasion=OccasionFactory(nursery=world.nursery, date=days_ago(400)))
    image = post.images.get()
    image.no_identifiable_child = True
    image.save()
    assert services.submit_post(world.practitioner, post=post).post.status == PostStatus.SUBMITTED


def test_past_occasions_leave_the_new_post_list(world):
    recent = OccasionFactory(nursery=world.nursery, name="Christmas concert", date=days_ago(3))
    coming = OccasionFactory(nursery=world.nursery, name="Nativity", date=days_ago(-5))
    past = OccasionFactory(nursery=world.nursery, name="Sports day", date=days_ago(400))
    choices = set(PostForm(nursery=world.nursery).fields["occasion"].queryset)
    assert {recent, coming} <= choices and past not in choices


def test_a_draft_keeps_its_own_past_occasion_in_the_list(world, make_post):
    past = OccasionFactory(nursery=world.nursery, name="Sports day", date=days_ago(400))
    post = make_post(occasion=past)
    assert past in PostForm(instance=post, nursery=world.nursery).fields["occasion"].queryset
