"""The approval workflow: every transition, allowed and refused, per role."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import Scope
from nursery.errors import ServiceError
from posts import services, workflow
from posts.models import PostEvent, PostStatus, Publication
from tests.factories import grant

S = PostStatus
pytestmark = pytest.mark.django_db


def at(post, status, **fields):
    post.status = status
    for name, value in fields.items():
        setattr(post, name, value)
    post.save()
    return post


def approved(post, by):
    return at(post, S.APPROVED, approved_version=post.version, approved_by=by, approved_at=timezone.now())


# What each workflow action does, called as a user would call it.
CALLS = {
    "edited": lambda user, post: services.edit_post(
        user, post=post, caption=post.caption + " Thank you!", channels=post.channels.all(), occasion=post.occasion,
        scheduled_for=None),
    "submitted": lambda user, post: services.submit_post(user, post=post),
    "withdrawn": lambda user, post: services.withdraw_submission(user, post=post),
    "approved": lambda user, post: services.approve_post(user, post=post, version=post.version),
    "changes_requested": lambda user, post: services.request_changes(user, post=post, comment="Crop the photo."),
    "rejected": lambda user, post: services.reject_post(user, post=post, reason="Not for social media."),
    "published": lambda user, post: services.publish_post(user, post=post),
    "taken_down": lambda user, post: services.take_down_post(user, post=post, reason="Parent asked."),
}


@pytest.fixture
def ready(world, make_post):
    grant(world.child, Scope.CLOSED)
    return make_post()


def test_the_table_is_the_issue_workflow():
    moves = {action: t.moves for action, t in workflow.TRANSITIONS.items()}
    assert moves["submitted"] == {S.DRAFT: S.SUBMITTED, S.CHANGES_REQUESTED: S.SUBMITTED}
    assert moves["approved"] == {S.SUBMITTED: S.APPROVED}
    assert moves["published"] == {S.APPROVED: S.PUBLISHED}
    assert moves["taken_down"] == {S.PUBLISHED: S.TAKEN_DOWN}
    assert moves["edited"][S.APPROVED] == S.SUBMITTED
    assert S.REJECTED not in moves["edited"] and S.PUBLISHED not in moves["edited"]


@pytest.mark.parametrize("action", sorted(CALLS))
def test_it_refuses_every_action_from_a_status_the_table_does_not_allow(action, world, ready):
    actor = world.practitioner if workflow.TRANSITIONS[action].who == workflow.Who.AUTHOR else world.deputy
    for status in set(S.values) - set(workflow.TRANSITIONS[action].moves):
        at(ready, status)
        with pytest.raises(ServiceError, match="You cannot"):
            CALLS[action](actor, ready)
        ready.refresh_from_db()
        assert ready.status == status


# (action, status the post is in, actors allowed); everyone else among the six is refused.
ROLE_CASES = [
    ("submitted", S.DRAFT, {"practitioner"}),
    ("withdrawn", S.SUBMITTED, {"practitioner"}),
    ("edited", S.DRAFT, {"practitioner", "leader"}),
    ("approved", S.SUBMITTED, {"leader"}),
    ("changes_requested", S.SUBMITTED, {"leader"}),
    ("rejected", S.SUBMITTED, {"leader"}),
    ("published", S.APPROVED, {"leader"}),
    ("taken_down", S.PUBLISHED, {"leader"}),
]
ACTORS = ["practitioner", "dsl", "leader", "parent", "outsider"]


@pytest.mark.parametrize("action, status, allowed", ROLE_CASES, ids=[c[0] for c in ROLE_CASES])
@pytest.mark.parametrize("actor", ACTORS)
def test_each_transition_per_role(action, status, allowed, actor, world, ready):
    user = world.actor(actor)
    at(ready, status)
    if status == S.APPROVED:
        approved(ready, world.deputy)
    if status == S.PUBLISHED:
        Publication.objects.create(post=ready, channel=ready.channels.get(), published_at=timezone.now(),
                                   published_by=world.deputy)
    if actor in allowed:
        CALLS[action](user, ready)
        ready.refresh_from_db()
        assert ready.status == workflow.TRANSITIONS[action].moves[status]
        assert ready.events.filter(action=action, actor=user).exists()
    else:
        with pytest.raises(ServiceError, match="Only"):
            CALLS[action](user, ready)
        ready.refresh_from_db()
        assert ready.status == status


def test_it_refuses_approval_by_the_author(world, make_post):
    grant(world.child, Scope.CLOSED)
    post = at(make_post(author=world.leader), S.SUBMITTED)
    with pytest.raises(ServiceError, match="another member of the leadership team"):
        services.approve_post(world.leader, post=post, version=post.version)
    services.approve_post(world.deputy, post=post, version=post.version)


def test_it_refuses_approval_by_the_leader_who_last_changed_it(world, ready):
    post = services.submit_post(world.practitioner, post=ready).post
    services.edit_post(world.leader, post=post, caption="Better words", channels=post.channels.all(),
                       occasion=post.occasion, scheduled_for=None)
    post.refresh_from_db()
    with pytest.raises(ServiceError, match="wrote or last changed"):
        services.approve_post(world.leader, post=post, version=post.version)
    services.approve_post(world.deputy, post=post, version=post.version)


def test_a_leader_may_approve_their_own_post_when_the_nursery_turns_four_eyes_off(world, make_post):
    world.nursery.four_eyes_approval = False
    world.nursery.save()
    grant(world.child, Scope.CLOSED)
    post = at(make_post(author=world.leader), S.SUBMITTED)
    assert services.approve_post(world.leader, post=post, version=post.version).status == S.APPROVED


def test_approval_is_of_the_exact_version_seen(world, ready):
    post = services.submit_post(world.practitioner, post=ready).post
    seen = post.version
    services.edit_post(world.practitioner, post=post, caption="Changed while the leader looked",
                       channels=post.channels.all(), occasion=post.occasion, scheduled_for=None)
    with pytest.raises(ServiceError, match="changed since you opened it"):
        services.approve_post(world.leader, post=post, version=seen)


def test_editing_an_approved_post_sends_it_back_for_approval(world, ready):
    post = services.submit_post(world.practitioner, post=ready).post
    post = services.approve_post(world.leader, post=post, version=post.version)
    post = services.edit_post(world.practitioner, post=post, caption="One more thing", channels=post.channels.all(),
                              occasion=post.occasion, scheduled_for=None)
    assert post.status == S.SUBMITTED
    assert post.approved_version is None and post.approved_by is None
    assert "approval was of the earlier version" in post.events.last().note
    assert world.leader.notifications.filter(subject="An approved post was changed").exists()
    with pytest.raises(ServiceError, match="You cannot publish"):
        services.publish_post(world.leader, post=post)


def test_the_whole_journey_is_recorded_as_history(world, ready):
    post = services.submit_post(world.practitioner, post=ready).post
    post = services.request_changes(world.leader, post=post, comment="Use the other photo.")
    post = services.edit_post(world.practitioner, post=post, caption="New caption", channels=post.channels.all(),
                              occasion=post.occasion, scheduled_for=None)
    post = services.submit_post(world.practitioner, post=post).post
    post = services.approve_post(world.leader, post=post, version=post.version)
    [publication] = services.publish_post(world.leader, post=post, urls={post.channels.get().pk: "https://fb.example/1"})
    post = services.take_down_post(world.leader, post=post, reason="Parent asked us to.")
    assert list(post.events.values_list("action", flat=True)) == [
        "submitted", "changes_requested", "edited", "submitted", "approved", "published", "taken_down",
    ]
    assert post.events.get(action="changes_requested").note == "Use the other photo."
    publication.refresh_from_db()
    assert publication.url == "https://fb.example/1" and publication.removed_by == world.leader
    assert world.practitioner.notifications.filter(subject="Changes requested to your post").exists()
    # The audit trail records who and why on the model history too.
    latest = post.history.first()
    assert latest.history_user == world.leader and latest.history_change_reason == "Took a post down"


def test_rejection_is_final_and_needs_a_reason(world, ready):
    post = services.submit_post(world.practitioner, post=ready).post
    with pytest.raises(ServiceError, match="Please write"):
        services.reject_post(world.leader, post=post, reason="  ")
    post = services.reject_post(world.leader, post=post, reason="Not an occasion we share.")
    with pytest.raises(ServiceError, match="You cannot submit"):
        services.submit_post(world.practitioner, post=post)


@pytest.mark.parametrize("problem, fix", [
    ("no_channel", "Choose at least one channel"),
    ("no_alt_text", "needs a description"),
    ("untagged", "tag every child who can be identified"),
    ("no_occasion", "choose the occasion"),
])
def test_it_refuses_to_submit_an_incomplete_post(problem, fix, world, ready):
    image = ready.images.get()
    if problem == "no_channel":
        ready.channels.clear()
    elif problem == "no_alt_text":
        image.alt_text = ""
        image.save()
    elif problem == "untagged":
        image.children.clear()
    else:
        ready.occasion = None
        ready.save()
    with pytest.raises(ServiceError, match=fix):
        services.submit_post(world.practitioner, post=ready)
    ready.refresh_from_db()
    assert ready.status == S.DRAFT and not PostEvent.objects.filter(post=ready).exists()


def test_a_photo_with_no_identifiable_child_needs_no_occasion(world, make_post):
    post = make_post(children=[], occasion=None)
    image = post.images.get()
    image.no_identifiable_child = True
    image.save()
    assert services.submit_post(world.practitioner, post=post).post.status == S.SUBMITTED


def test_the_author_may_withdraw_a_submission(world, ready):
    post = services.submit_post(world.practitioner, post=ready).post
    assert services.withdraw_submission(world.practitioner, post=post).status == S.DRAFT


def test_drafts_are_for_the_nurserys_staff_only(world, closed_channel):
    with pytest.raises(ServiceError):
        services.create_draft(world.parent, nursery=world.nursery, caption="Hello")
    with pytest.raises(ServiceError, match="this nursery"):
        services.create_draft(world.outsider, nursery=world.other_nursery, channels=[closed_channel])
    post = services.create_draft(world.practitioner, nursery=world.nursery, caption="Hello", channels=[closed_channel])
    assert post.events.get().action == "created"


def test_a_scheduled_time_must_be_in_the_future(world, closed_channel):
    with pytest.raises(ServiceError, match="in the future"):
        services.create_draft(world.practitioner, nursery=world.nursery, channels=[closed_channel],
                              scheduled_for=timezone.now() - timedelta(minutes=1))


def test_actions_for_offers_only_what_the_user_may_do(world, ready):
    at(ready, S.SUBMITTED)
    assert workflow.actions_for(world.practitioner, ready) == {"edited", "withdrawn"}
    assert workflow.actions_for(world.leader, ready) == {"edited", "approved", "changes_requested", "rejected"}
    assert workflow.actions_for(world.parent, ready) == set()


def test_a_childs_full_name_in_the_caption_blocks_submission(world, ready):
    ready.caption = "Amara Okafor sang beautifully"
    ready.save()
    with pytest.raises(ServiceError, match="Remove the full name 'Amara Okafor'"):
        services.submit_post(world.practitioner, post=ready)
    ready.refresh_from_db()
    assert ready.status == S.DRAFT


def test_a_pictured_childs_first_name_and_a_phone_number_only_warn(world, ready):
    ready.caption = "Amara sang beautifully. Questions? Call 020 7946 0958"
    ready.save()
    warnings = services.submit_post(world.practitioner, post=ready).warnings
    assert any("'Amara' is the first name of a child in the photos" in w for w in warnings)
    assert any("phone" in w for w in warnings)
