"""Posts pages: the happy paths, wrong methods, private photos and the query budget of the lists."""

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import Scope
from posts.models import PostStatus
from tests.factories import grant
from tests.posts.factories import PostImageFactory, jpeg_bytes

S = PostStatus
pytestmark = pytest.mark.django_db


def test_a_practitioner_drafts_tags_and_submits(client, world, closed_channel, occasion):
    from django.core.files.uploadedfile import SimpleUploadedFile

    grant(world.child, Scope.CLOSED)
    client.force_login(world.practitioner)
    response = client.post(reverse("posts:new"), {
        "caption": "Carols in the hall", "channels": [closed_channel.pk], "occasion": occasion.pk,
        "photos": [SimpleUploadedFile("concert.jpg", jpeg_bytes(), content_type="image/jpeg")],
    })
    post = world.practitioner.posts.get()
    assert response.status_code == 302 and response.url == reverse("posts:edit", args=[post.pk])
    image = post.images.get()
    response = client.post(reverse("posts:describe_photo", args=[image.pk]), {
        f"photo{image.pk}-alt_text": "Children singing carols", f"photo{image.pk}-children": [world.child.pk],
    })
    assert list(image.children.all()) == [world.child]
    response = client.post(reverse("posts:submit", args=[post.pk]), follow=True)
    post.refresh_from_db()
    assert post.status == S.SUBMITTED
    assert "Sent to the leadership team" in response.content.decode()


def test_a_leader_approves_and_publishes_from_the_post_page(client, world, make_post, closed_channel):
    grant(world.child, Scope.CLOSED)
    post = make_post()
    post.status, post.submitted_at = S.SUBMITTED, timezone.now()
    post.save()
    client.force_login(world.leader)
    page = client.get(reverse("posts:detail", args=[post.pk])).content.decode()
    assert "Approve version 1" in page and "Amara Okafor" in page
    client.post(reverse("posts:approve", args=[post.pk]), {"version": post.version})
    post.refresh_from_db()
    assert post.status == S.APPROVED
    client.post(reverse("posts:publish", args=[post.pk]), {f"url_{closed_channel.pk}": "https://fb.example/p/1"})
    post.refresh_from_db()
    assert post.status == S.PUBLISHED and post.publications.get().url == "https://fb.example/p/1"
    history = client.get(reverse("posts:detail", args=[post.pk])).content.decode()
    assert "Published" in history and "Helen Marsh" in history


def test_a_refusal_is_shown_as_a_message_and_changes_nothing(client, world, make_post):
    post = make_post()
    post.status = S.SUBMITTED
    post.save()
    client.force_login(world.leader)
    response = client.post(reverse("posts:approve", args=[post.pk]), {"version": post.version}, follow=True)
    assert "Amara Okafor has no closed" in response.content.decode()
    post.refresh_from_db()
    assert post.status == S.SUBMITTED


@pytest.mark.parametrize("name", ["submit", "approve", "publish", "take_down", "withdraw"])
def test_actions_refuse_get(client, world, make_post, name):
    client.force_login(world.leader)
    assert client.get(reverse(f"posts:{name}", args=[make_post().pk])).status_code == 405


def test_photos_are_served_privately_not_from_a_public_media_url(client, world, make_post):
    image = make_post().images.get()
    client.force_login(world.practitioner)
    response = client.get(reverse("posts:photo", args=[image.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=300"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
    assert client.get(f"/media/{image.image.name}").status_code == 404
    client.force_login(world.dsl)
    assert client.get(reverse("posts:photo", args=[image.pk])).status_code == 403


def test_other_staff_see_published_posts_but_not_colleagues_drafts(client, world, make_post):
    draft, out = make_post(), make_post(status=S.PUBLISHED)
    client.force_login(world.dsl)
    assert client.get(reverse("posts:detail", args=[draft.pk])).status_code == 403
    assert client.get(reverse("posts:detail", args=[out.pk])).status_code == 200


def test_the_author_cannot_edit_a_published_post(client, world, make_post):
    post = make_post(status=S.PUBLISHED)
    client.force_login(world.practitioner)
    response = client.get(reverse("posts:edit", args=[post.pk]))
    assert response.status_code == 302 and response.url == reverse("posts:detail", args=[post.pk])


def _queue(world, make_post, count):
    grant(world.child, Scope.CLOSED)
    for _ in range(count):
        post = make_post()
        PostImageFactory(post=post, children=[world.child])
        post.status, post.submitted_at = S.SUBMITTED, timezone.now()
        post.save()


@pytest.mark.parametrize("count", [5, 500])
def test_the_approval_queue_costs_the_same_at_5_and_500_posts(count, client, world, make_post,
                                                              django_assert_max_num_queries):
    _queue(world, make_post, count)
    client.force_login(world.leader)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("posts:approvals"))
    assert response.status_code == 200 and response.content.decode().count("Amara Okafor") >= 5


@pytest.mark.parametrize("name", ["mine", "published", "scheduled"])
@pytest.mark.parametrize("count", [5, 500])
def test_the_other_lists_cost_the_same_at_5_and_500_posts(name, count, client, world, make_post,
                                                          django_assert_max_num_queries):
    status = {"mine": S.DRAFT, "published": S.PUBLISHED, "scheduled": S.APPROVED}[name]
    for _ in range(count):
        make_post(status=status, scheduled_for=timezone.now() + timezone.timedelta(days=1))
    client.force_login(world.leader if name == "scheduled" else world.practitioner)
    with django_assert_max_num_queries(16):
        assert client.get(reverse(f"posts:{name}")).status_code == 200


def test_leadership_manages_channels(client, world):
    client.force_login(world.leader)
    response = client.post(reverse("posts:channel_new"), {
        "name": "Parents' WhatsApp", "platform": "other", "audience": Scope.CLOSED, "publisher": "manual",
        "active": "on",
    })
    assert response.status_code == 302
    channel = world.nursery.channels.get(name="Parents' WhatsApp")
    assert channel.history.first().history_user == world.leader
    client.post(reverse("posts:occasion_new"), {"name": "Sports day", "date": "2027-07-09"})
    assert world.nursery.occasions.get(name="Sports day").created_by == world.leader


def test_a_leader_records_where_a_post_went_out(client, world, make_post):
    post = make_post(status=S.PUBLISHED)
    from posts.models import Publication

    publication = Publication.objects.create(post=post, channel=post.channels.get(), published_at=timezone.now(),
                                             published_by=world.leader)
    client.force_login(world.leader)
    response = client.post(reverse("posts:publication_address", args=[publication.pk]), {"url": "not a link"},
                           follow=True)
    assert "not a web address" in response.content.decode()
    client.post(reverse("posts:publication_address", args=[publication.pk]), {"url": "https://fb.example/p/9"})
    publication.refresh_from_db()
    assert publication.url == "https://fb.example/p/9"
    assert publication.history.first().history_user == world.leader


def test_an_unsafe_upload_is_refused_and_nothing_is_stored(client, world, closed_channel):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.practitioner)
    response = client.post(reverse("posts:new"), {
        "caption": "Hello", "channels": [closed_channel.pk],
        "photos": [SimpleUploadedFile("notes.jpg", b"this is not a photo", content_type="image/jpeg")],
    })
    assert response.status_code == 200
    assert "is not a photo we can accept" in response.content.decode()
    assert not world.practitioner.posts.exists()


def test_confirming_a_takedown_from_its_page(client, world, make_post):
    from posts.models import Publication, Takedown

    post = make_post(status=S.PUBLISHED)
    Publication.objects.create(post=post, channel=post.channels.get(), published_at=timezone.now(),
                               published_by=world.leader)
    now = timezone.now()
    takedown = Takedown.objects.create(nursery=world.nursery, post=post, child=world.child, scope=Scope.CLOSED,
                                       reason="Consent withdrawn.", opened_at=now, deadline=now, next_escalation_at=now)
    client.force_login(world.leader)
    assert "Confirm" in client.get(reverse("posts:takedowns")).content.decode()
    response = client.post(reverse("posts:takedown", args=[takedown.pk]), {"note": "Deleted."})
    assert response.status_code == 302
    takedown.refresh_from_db()
    post.refresh_from_db()
    assert takedown.confirmed_by == world.leader and post.status == S.TAKEN_DOWN
