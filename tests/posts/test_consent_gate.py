"""The consent gate: each child pictured needs effective consent in the scope of every channel."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from consent.models import Scope
from consent.services import withdraw_consent
from nursery.errors import ServiceError
from posts import services
from posts.gate import consent_problems
from posts.models import PostStatus
from tests.factories import ChildFactory, grant

S = PostStatus
pytestmark = pytest.mark.django_db


def submitted(world, post):
    return services.submit_post(world.practitioner, post=post)


@pytest.mark.parametrize("granted, channels, blocked_scopes", [
    ((Scope.CLOSED,), ("closed",), set()),
    ((), ("closed",), {Scope.CLOSED}),
    ((Scope.CLOSED,), ("public",), {Scope.PUBLIC}),
    ((Scope.PUBLIC,), ("closed",), {Scope.CLOSED}),  # public consent does not stand in for closed
    ((Scope.PUBLIC,), ("public",), set()),
    ((Scope.CLOSED,), ("closed", "public"), {Scope.PUBLIC}),
    ((Scope.CLOSED, Scope.PUBLIC), ("closed", "public"), set()),
])
def test_the_gate_for_each_scope(granted, channels, blocked_scopes, world, make_post, closed_channel, public_channel):
    if granted:
        grant(world.child, *granted)
    by_scope = {"closed": closed_channel, "public": public_channel}
    post = make_post(channels=[by_scope[c] for c in channels])
    submission = submitted(world, post)
    assert {p.scope for p in consent_problems(post)} == blocked_scopes
    if blocked_scopes:
        assert any("Amara Okafor has no" in w for w in submission.warnings)
        with pytest.raises(ServiceError, match="cannot be approved yet. Amara Okafor has no"):
            services.approve_post(world.leader, post=post, version=post.version)
        post.refresh_from_db()
        assert post.status == S.SUBMITTED
    else:
        assert submission.warnings == []
        assert services.approve_post(world.leader, post=post, version=post.version).status == S.APPROVED


def test_the_submit_warning_names_the_child_the_scope_and_the_fix(world, make_post, public_channel):
    grant(world.child, Scope.CLOSED)
    [warning] = submitted(world, make_post(channels=[public_channel])).warnings
    assert "Amara Okafor has no public photo consent (not asked)" in warning
    assert "Public Facebook Page" in warning
    assert "Remove Amara's photo" in warning and "choose only channels" in warning and "parent or carer" in warning


def test_it_refuses_approval_for_a_child_who_has_left(world, make_post):
    grant(world.child, Scope.CLOSED)
    post = make_post()
    submitted(world, post)
    world.child.left_on = timezone.localdate()
    world.child.save()
    with pytest.raises(ServiceError, match="left nursery"):
        services.approve_post(world.leader, post=post, version=post.version)


def test_it_checks_every_child_in_every_image(world, make_post):
    sibling = ChildFactory(nursery=world.nursery, first_name="Bea", last_name="Stone", joined_on=date(2025, 1, 1))
    grant(world.child, Scope.CLOSED)
    post = make_post()
    from tests.posts.factories import PostImageFactory

    PostImageFactory(post=post, children=[sibling])
    submitted(world, post)
    with pytest.raises(ServiceError, match="Bea Stone"):
        services.approve_post(world.leader, post=post, version=post.version)


def test_it_blocks_publishing_after_withdrawal(world, make_post):
    grant(world.child, Scope.CLOSED, guardian=world.parent)
    post = submitted(world, make_post()).post
    post = services.approve_post(world.leader, post=post, version=post.version)
    # The withdrawal's own follow-up (after commit) is not run here: the gate alone must stop it.
    withdraw_consent(world.parent, child=world.child, scope=Scope.CLOSED)
    with pytest.raises(ServiceError, match="cannot be published yet. Amara Okafor has no closed"):
        services.publish_post(world.leader, post=post)
    post.refresh_from_db()
    assert post.status == S.APPROVED and not post.publications.exists()


def test_expired_consent_blocks_publishing(world, make_post):
    grant(world.child, Scope.CLOSED, decided_at=timezone.now() - timedelta(days=300))
    post = submitted(world, make_post()).post
    post = services.approve_post(world.leader, post=post, version=post.version)
    with pytest.raises(ServiceError, match="expired"):
        services.publish_post(world.leader, post=post, now=timezone.now() + timedelta(days=70))


def test_a_photo_where_no_child_can_be_identified_needs_no_consent(world, make_post, public_channel):
    post = make_post(children=[], channels=[public_channel])
    image = post.images.get()
    image.no_identifiable_child = True
    image.save()
    post = submitted(world, post).post
    post = services.approve_post(world.leader, post=post, version=post.version)
    [publication] = services.publish_post(world.leader, post=post)
    assert publication.channel == public_channel


@pytest.mark.parametrize("count", [1, 40])
def test_the_gate_costs_the_same_queries_however_many_children_are_pictured(
    count, world, make_post, closed_channel, public_channel, django_assert_num_queries
):
    children = ChildFactory.create_batch(count, nursery=world.nursery, room=world.child.room)
    for child in children[::2]:
        grant(child, Scope.CLOSED)
    post = make_post(channels=[closed_channel, public_channel], children=children)
    # the pictured children, the channels, then consent_states: children, wordings, latest decisions
    with django_assert_num_queries(5):
        problems = consent_problems(post)
    assert len(problems) == count + len(children[1::2])
