"""Concern forms for staff and parents, and manual entry of comments."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from moderation.models import Comment, Concern, ItemStatus, ModerationItem, Priority
from nursery.models import Notification
from tests.moderation.factories import ChannelFactory


def png_bytes(size=(20, 10), **info) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format="PNG", **info)
    return buffer.getvalue()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (20, 10), "white")
    exif = Image.Exif()
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPSInfo: a latitude
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_a_parent_reports_a_concern_that_goes_to_the_top_of_the_queue(world, client):
    client.force_login(world.parent)
    form = client.get("/concerns/new/").content.decode()
    assert "official way to tell us" in form
    response = client.post("/concerns/new/", {"description": "Someone shared a nursery photo on TikTok",
                                              "where_seen": "TikTok", "link": "https://tiktok.example/v/1"})
    assert response.status_code == 302
    concern = Concern.objects.get()
    assert (concern.raised_by, concern.reporter, concern.where_seen) == (world.parent, "parent", "TikTok")
    item = concern.moderation_item
    assert (item.priority, item.status) == (Priority.CONCERN, ItemStatus.PENDING)
    assert set(Notification.objects.filter(subject="A concern has been reported")
               .values_list("recipient__username", flat=True)) == {"dsl"}
    mine = client.get("/concerns/mine/").content.decode()
    assert "Someone shared a nursery photo on TikTok" in mine and "Received" in mine


def test_a_practitioner_reports_a_concerning_question_with_a_screenshot_stripped_of_metadata(world, client):
    channel = ChannelFactory(nursery=world.nursery)
    client.force_login(world.practitioner)
    assert "word for word" in client.get("/concerns/new/").content.decode()
    upload = SimpleUploadedFile("shot.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = client.post("/concerns/new/", {"description": "A parent asked me to message her privately",
                                              "channel": channel.pk, "screenshot": upload})
    assert response.status_code == 302
    concern = Concern.objects.get()
    assert concern.reporter == "staff" and concern.channel == channel
    with Image.open(concern.screenshot.path) as stored:
        assert stored.format == "PNG"
        assert not stored.getexif()
        assert "exif" not in stored.info


def test_a_file_that_is_not_an_image_is_refused_with_a_field_error(world, client):
    client.force_login(world.parent)
    upload = SimpleUploadedFile("shot.png", b"<?php echo 'x'; ?>", content_type="image/png")
    response = client.post("/concerns/new/", {"description": "x", "screenshot": upload})
    assert response.status_code == 200
    assert "image" in response.content.decode().lower()
    assert not Concern.objects.exists()


def test_a_concern_without_a_description_is_refused(world, client):
    client.force_login(world.parent)
    response = client.post("/concerns/new/", {"description": ""})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not ModerationItem.objects.exists()


def test_another_nurserys_channel_cannot_be_chosen(world, client):
    foreign = ChannelFactory(nursery=world.other_nursery)
    client.force_login(world.parent)
    response = client.post("/concerns/new/", {"description": "x", "channel": foreign.pk})
    assert response.status_code == 200
    assert not Concern.objects.exists()


def test_a_parent_sees_only_their_own_reports(world, client):
    from moderation.services import raise_concern

    raise_concern(world.practitioner, nursery=world.nursery, description="Staff-only worry")
    client.force_login(world.parent)
    assert "Staff-only worry" not in client.get("/concerns/mine/").content.decode()


def test_the_screenshot_is_only_for_the_reporter_and_the_queue_readers(world, client):
    from tests.moderation.access import _concern_with_screenshot

    pk = _concern_with_screenshot(world)["pk"]
    client.force_login(world.parent)
    response = client.get(f"/concerns/{pk}/screenshot/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    client.force_login(world.practitioner)
    assert client.get(f"/concerns/{pk}/screenshot/").status_code == 403


def test_staff_enter_a_comment_seen_on_a_platform_and_it_is_screened(world, client):
    channel = ChannelFactory(nursery=world.nursery)
    client.force_login(world.practitioner)
    response = client.post("/moderation/comments/new/", {
        "channel": channel.pk, "author_name": "Jo", "text": "Chloe add me as a friend request x",
        "link": "https://www.facebook.com/kidscount/posts/1?comment_id=2",
    })
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert (comment.source, comment.entered_by, comment.platform) == ("manual", world.practitioner, "facebook")
    assert comment.versions.get().text == "Chloe add me as a friend request x"
    assert {h.category for h in comment.moderation_item.hits.all()} == {"private_contact"}


@pytest.mark.parametrize("actor", ["parent"])
def test_parents_cannot_enter_comments(world, client, actor):
    client.force_login(world.actor(actor))
    assert client.get("/moderation/comments/new/").status_code == 403
