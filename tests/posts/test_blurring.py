"""Leadership blurs faces instead of removing a photo: the consent gate, the choice and its history."""

import pytest

from consent.models import Scope
from consent.services import withdraw_consent
from nursery.errors import ServiceError
from posts import services
from posts.blur import scope_copy
from posts.gate import consent_problems, face_problems
from posts.models import FaceMarking, PostEvent, PostStatus, Takedown
from tests.factories import grant
from tests.posts.factories import DetectedFaceFactory, PostImageFactory

S = PostStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def group(world, make_post, closed_channel, public_channel):
    """Amara (closed consent only) in a photo for both channels: face 1 is hers, 2 an adult, 3 nobody said."""
    grant(world.child, Scope.CLOSED, guardian=world.parent)
    post = make_post(channels=[closed_channel, public_channel])
    image = post.images.get()
    faces = [
        DetectedFaceFactory(image=image, number=1, x=0, marking=FaceMarking.CHILD, child=world.child),
        DetectedFaceFactory(image=image, number=2, x=20, marking=FaceMarking.ADULT),
        DetectedFaceFactory(image=image, number=3, x=40),
    ]
    return post, image, faces


def blur(world, post, *, user=None, **choice):
    return services.choose_blurring(user or world.leader, post=post, **choice)


def scopes_refused(post):
    return {(p.child.first_name, p.scope) for p in consent_problems(post)}


def test_a_child_without_public_consent_is_accepted_once_blurred_in_the_public_copy_only(world, group):
    post, image, faces = group
    assert scopes_refused(post) == {("Amara", Scope.PUBLIC)}

    post = blur(world, post, blur_unconsented=True)

    assert scopes_refused(post) == set()
    image.refresh_from_db()
    assert scope_copy(image, Scope.PUBLIC).blurred == (1,)
    closed = scope_copy(image, Scope.CLOSED)
    assert closed.blurred == () and closed.content == image.image.open("rb").read()


def test_without_the_blur_the_public_channel_still_refuses(world, group):
    post, image, faces = group
    blur(world, post, faces={faces[1].pk: True, faces[2].pk: True})  # other faces blurred, not Amara's
    post = services.submit_post(world.practitioner, post=post).post
    with pytest.raises(ServiceError, match="Amara Okafor has no public photo consent"):
        services.approve_post(world.deputy, post=post, version=post.version)


def test_a_tagged_child_with_no_face_to_blur_still_refuses(world, group):
    post, image, faces = group
    services.account_for_faces(world.practitioner, image=image, marks={faces[0].pk: ("", None)})
    post = blur(world, post, blur_unconsented=True)
    # Amara is tagged (she can be identified, from behind say) but no face of hers is there to blur.
    assert scopes_refused(post) == {("Amara", Scope.PUBLIC)}


def test_every_photo_the_child_is_in_must_blur_them(world, group):
    post, image, faces = group
    blur(world, post, faces={faces[0].pk: True})
    assert scopes_refused(post) == set()  # blurred by hand: in every copy, whatever the scope
    PostImageFactory(post=post, children=[world.child], position=1)  # tagged again, no face linked there
    assert scopes_refused(post) == {("Amara", Scope.PUBLIC)}


def test_a_face_blurred_by_hand_is_accounted_for(world, group):
    post, image, faces = group
    assert face_problems(post) == ["Photo 1: face 3 is not accounted for. On the edit page, link each face to a "
                                   "tagged child, or mark it as an adult, not identifiable or not a face."]
    blur(world, post, faces={faces[2].pk: True})
    assert face_problems(post) == []
    assert scope_copy(image, Scope.CLOSED).blurred == (3,)


def test_the_history_records_who_chose_to_blur_whom(world, group):
    post, image, faces = group
    blur(world, post, blur_unconsented=True, faces={faces[2].pk: True})

    event = post.events.get(action=PostEvent.Action.BLURRING)
    assert event.actor == world.leader
    assert "Blur face 3 in photo 1 (not accounted for) in every copy" in event.note
    assert "Blur the faces of children without consent in each channel's scope: today Amara Okafor in public" \
        in event.note
    assert event.version == post.version == 1  # not an edit: the author's post is unchanged
    assert faces[2].history.first().history_user == world.leader

    blur(world, post, faces={faces[2].pk: False})
    assert "Stop blurring face 3 in photo 1" in post.events.filter(action=PostEvent.Action.BLURRING).last().note


def test_staff_cannot_choose_to_blur(world, group):
    post, image, faces = group
    with pytest.raises(ServiceError, match="Only the leadership team can choose which faces are blurred"):
        blur(world, post, user=world.practitioner, blur_unconsented=True, faces={faces[2].pk: True})
    post.refresh_from_db()
    faces[2].refresh_from_db()
    assert not post.blur_unconsented and not faces[2].blur
    assert not post.events.filter(action=PostEvent.Action.BLURRING).exists()


def test_a_face_of_another_post_is_refused(world, group, make_post):
    post, image, faces = group
    elsewhere = DetectedFaceFactory(image=make_post().images.get(), number=1)
    with pytest.raises(ServiceError, match="not in this post"):
        blur(world, post, faces={elsewhere.pk: True})


def test_blurring_more_keeps_an_approval_and_blurring_less_asks_for_it_again(world, group):
    post, image, faces = group
    post = blur(world, post, blur_unconsented=True, faces={faces[2].pk: True})
    post = services.submit_post(world.practitioner, post=post).post
    post = services.approve_post(world.deputy, post=post, version=post.version)

    post = blur(world, post, faces={faces[1].pk: True})
    assert post.status == S.APPROVED

    post = blur(world, post, faces={faces[1].pk: False})
    assert post.status == S.SUBMITTED and post.approved_version is None
    assert "waits for approval again" in post.events.last().note


def test_nothing_can_be_blurred_once_published(world, group):
    post, image, faces = group
    post.status = S.PUBLISHED
    post.save()
    with pytest.raises(ServiceError, match="cannot be blurred any more"):
        blur(world, post, faces={faces[2].pk: True})


def test_the_leader_publishes_with_the_child_blurred_and_a_withdrawal_leaves_that_copy_alone(
    world, group, public_channel, closed_channel,
):
    post, image, faces = group
    grant(world.child, Scope.PUBLIC, guardian=world.parent)
    post = blur(world, post, blur_unconsented=True, faces={faces[2].pk: True})
    withdraw_consent(world.parent, child=world.child, scope=Scope.PUBLIC)
    post = services.submit_post(world.practitioner, post=post).post
    post = services.approve_post(world.deputy, post=post, version=post.version)

    publications = {p.channel: p for p in services.publish_post(world.leader, post=post)}

    assert list(publications[public_channel].blurred_children.all()) == [world.child]
    assert list(publications[closed_channel].blurred_children.all()) == []
    # The nightly safety net sees a withdrawn child on a live public channel, and knows that copy hides her.
    assert services.open_missed_takedowns() == 0
    # Her closed consent withdrawn: the closed copy showed her, so it must come down.
    withdraw_consent(world.parent, child=world.child, scope=Scope.CLOSED)
    assert services.handle_consent_withdrawal(child_id=world.child.pk, scope=Scope.CLOSED)["takedowns"] == 1
    assert Takedown.objects.get().scope == Scope.CLOSED


def test_a_withdrawal_does_not_send_back_a_post_that_blurs_the_child(world, group):
    post, image, faces = group
    grant(world.child, Scope.PUBLIC, guardian=world.parent)
    blur(world, post, blur_unconsented=True, faces={faces[2].pk: True})
    post = services.submit_post(world.practitioner, post=post).post

    withdraw_consent(world.parent, child=world.child, scope=Scope.PUBLIC)
    assert services.handle_consent_withdrawal(child_id=world.child.pk, scope=Scope.PUBLIC)["sent_back"] == 0
    post.refresh_from_db()
    assert post.status == S.SUBMITTED
