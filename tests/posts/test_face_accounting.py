"""Every face in a photo accounted for: submit warns, approval and publication refuse until each is."""

import pytest
from django.urls import reverse

from consent.models import Scope
from nursery.errors import ServiceError
from posts import services
from posts.gate import face_problems
from posts.models import FaceMarking, FaceSearch, PostEvent, PostStatus
from tests.factories import ChildFactory, grant
from tests.posts.factories import DetectedFaceFactory

S = PostStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def group_photo(world, make_post):
    """Amara tagged (with closed consent) in a photo where the detector found three faces."""
    grant(world.child, Scope.CLOSED)
    post = make_post()
    image = post.images.get()
    faces = [DetectedFaceFactory(image=image, number=n, x=100 * n) for n in (1, 2, 3)]
    return post, image, faces


def mark(world, image, face, marking, child=None, user=None):
    return services.account_for_faces(user or world.practitioner, image=image,
                                      marks={face.pk: (marking, child)})


def test_submit_warns_about_faces_not_accounted_for(world, group_photo):
    post, image, faces = group_photo

    submission = services.submit_post(world.practitioner, post=post)

    assert submission.post.status == S.SUBMITTED
    assert any("Photo 1: faces 1, 2 and 3 are not accounted for" in w for w in submission.warnings)


def test_it_refuses_approval_while_a_face_is_unaccounted_for(world, group_photo):
    post, image, faces = group_photo
    mark(world, image, faces[0], FaceMarking.CHILD, world.child)
    mark(world, image, faces[1], FaceMarking.ADULT)
    post = services.submit_post(world.practitioner, post=post).post

    with pytest.raises(ServiceError, match="cannot be approved yet. Photo 1: face 3 is not accounted for"):
        services.approve_post(world.leader, post=post, version=post.version)


@pytest.mark.parametrize("marking", [FaceMarking.ADULT, FaceMarking.NOT_IDENTIFIABLE, FaceMarking.NOT_A_FACE])
def test_each_marking_accounts_for_a_face(world, group_photo, marking):
    post, image, faces = group_photo
    mark(world, image, faces[0], FaceMarking.CHILD, world.child)
    mark(world, image, faces[1], FaceMarking.ADULT)
    mark(world, image, faces[2], marking)
    post = services.submit_post(world.practitioner, post=post).post

    assert services.approve_post(world.leader, post=post, version=post.version).status == S.APPROVED


def test_it_refuses_publication_when_a_face_appears_unaccounted_after_approval(world, group_photo):
    post, image, faces = group_photo
    for face in faces:
        mark(world, image, face, FaceMarking.NOT_IDENTIFIABLE)
    post = services.submit_post(world.practitioner, post=post).post
    post = services.approve_post(world.leader, post=post, version=post.version)
    DetectedFaceFactory(image=image, number=4)  # as if a face were stored late, outside any edit

    with pytest.raises(ServiceError, match="cannot be published yet. Photo 1: face 4 is not accounted for"):
        services.publish_post(world.leader, post=post)
    post.refresh_from_db()
    assert post.status == S.APPROVED


def test_a_photo_still_being_searched_waits_and_a_failed_one_falls_back_to_the_tags(world, make_post):
    grant(world.child, Scope.CLOSED)
    post = make_post()
    image = post.images.get()
    image.face_search = FaceSearch.PENDING
    image.save()
    assert face_problems(post) == ["Photo 1: its faces are still being counted; try again in a moment."]

    image.face_search = FaceSearch.FAILED
    image.save()
    assert face_problems(post) == []
    post = services.submit_post(world.practitioner, post=post).post
    assert services.approve_post(world.leader, post=post, version=post.version).status == S.APPROVED


def test_no_identifiable_child_on_a_photo_with_faces_needs_each_face_marked(world, make_post):
    post = make_post(children=[])
    image = post.images.get()
    services.describe_image(world.practitioner, image=image, alt_text="Hands painting", children=[],
                            no_identifiable_child=True)
    face = DetectedFaceFactory(image=image, number=1)
    post = services.submit_post(world.practitioner, post=post).post
    with pytest.raises(ServiceError, match="face 1 is not accounted for"):
        services.approve_post(world.leader, post=post, version=post.version)

    mark(world, image, face, FaceMarking.NOT_IDENTIFIABLE, user=world.deputy)  # still waiting for approval
    post.refresh_from_db()
    assert services.approve_post(world.leader, post=post, version=post.version).status == S.APPROVED


def test_a_face_can_be_linked_only_to_a_child_tagged_in_the_photo(world, group_photo):
    post, image, faces = group_photo
    other = ChildFactory(nursery=world.nursery, first_name="Ben")

    with pytest.raises(ServiceError, match="Ben .* is not tagged in this photo"):
        mark(world, image, faces[0], FaceMarking.CHILD, other)


def test_untagging_a_child_leaves_their_face_unaccounted_for(world, group_photo):
    post, image, faces = group_photo
    mark(world, image, faces[0], FaceMarking.CHILD, world.child)

    services.describe_image(world.practitioner, image=image, alt_text="Singing", children=[],
                            no_identifiable_child=False)

    faces[0].refresh_from_db()
    assert (faces[0].marking, faces[0].child) == ("", None)


def test_accounting_is_an_edit_in_the_posts_history(world, group_photo):
    post, image, faces = group_photo

    services.account_for_faces(world.practitioner, image=image, marks={
        faces[0].pk: (FaceMarking.CHILD, world.child), faces[2].pk: (FaceMarking.ADULT, None),
    })

    post.refresh_from_db()
    assert post.version == 2
    event = post.events.get(action=PostEvent.Action.EDITED)
    assert event.actor == world.practitioner
    assert event.note == "Accounted for faces in photo 1 (face 1: Amara Okafor; face 3: an adult)"


def test_saving_the_same_answers_again_changes_nothing(world, group_photo):
    post, image, faces = group_photo
    mark(world, image, faces[0], FaceMarking.ADULT)
    mark(world, image, faces[0], FaceMarking.ADULT)
    post.refresh_from_db()
    assert post.version == 2


# The edit page


def test_the_edit_page_shows_the_numbered_boxes_and_a_choice_per_face(world, group_photo, client):
    post, image, faces = group_photo
    client.force_login(world.practitioner)

    page = client.get(reverse("posts:edit", args=[post.pk])).content.decode()

    assert page.count("<rect ") == 3
    assert "3 faces found." in page and "3 not accounted for yet." in page
    for face in faces:
        assert f'<label class="form-label mb-1" for="id_faces{image.pk}-face{face.pk}">Face {face.number}' in page
    assert "Amara Okafor</option>" in page and "Not a face</option>" in page
    assert "style=" not in page.split(f'id="faces-{image.pk}"')[1].split("</section>")[0]


def test_staff_account_for_the_faces_from_the_edit_page(world, group_photo, client):
    post, image, faces = group_photo
    client.force_login(world.practitioner)
    prefix = f"faces{image.pk}-face"

    response = client.post(reverse("posts:account_faces", args=[image.pk]), {
        f"{prefix}{faces[0].pk}": f"child:{world.child.pk}", f"{prefix}{faces[1].pk}": "adult",
        f"{prefix}{faces[2].pk}": "not_identifiable",
    })

    assert response.status_code == 302 and response.url.endswith(f"/edit/#faces-{image.pk}")
    assert [(f.marking, f.child_id) for f in image.faces.all()] == [
        ("child", world.child.pk), ("adult", None), ("not_identifiable", None),
    ]
    assert face_problems(post) == []


def test_the_panel_polls_while_faces_are_counted_and_stops_when_they_are(world, make_post, client):
    post = make_post()
    image = post.images.get()
    image.face_search = FaceSearch.PENDING
    image.save()
    client.force_login(world.practitioner)
    url = reverse("posts:faces", args=[image.pk])

    assert 'hx-trigger="every 2s"' in client.get(url).content.decode()

    image.face_search = FaceSearch.DONE
    image.save()
    DetectedFaceFactory(image=image, number=1)
    panel = client.get(url).content.decode()
    assert "hx-trigger" not in panel and "1 face found." in panel


def test_a_failed_search_says_so_on_the_edit_page(world, make_post, client):
    post = make_post()
    post.images.update(face_search=FaceSearch.FAILED)
    client.force_login(world.practitioner)
    assert "Face detection failed for this photo" in client.get(reverse("posts:edit", args=[post.pk])).content.decode()


def test_saving_a_photos_description_never_undoes_the_workers_face_search(world, make_post):
    post = make_post()
    stale = post.images.get()
    stale.face_search = FaceSearch.PENDING
    stale.save()
    post.images.update(face_search=FaceSearch.DONE)  # the worker finished after the page read the photo

    services.describe_image(world.practitioner, image=stale, alt_text="Singing", children=[world.child],
                            no_identifiable_child=False)

    assert post.images.get().face_search == FaceSearch.DONE
