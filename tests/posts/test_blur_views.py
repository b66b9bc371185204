"""Blurring on the post's pages: leadership's toggles and previews, staff told no, the manual download."""

import io

import numpy as np
import pytest
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from consent.models import Scope
from posts.models import FaceMarking, PostStatus, Publication
from tests.factories import grant
from tests.posts.factories import DetectedFaceFactory, PostImageFactory

pytestmark = pytest.mark.django_db
FACE = (60, 40, 80, 80)


@pytest.fixture
def photo(world, make_post, closed_channel, public_channel):
    """Amara (closed consent only) in a busy photo for both channels; face 1 is hers, face 2 a stranger's."""
    grant(world.child, Scope.CLOSED)
    post = make_post(channels=[closed_channel, public_channel], children=[])
    post.images.all().delete()
    noise = np.random.default_rng(3).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "JPEG", quality=90)
    image = PostImageFactory(post=post, children=[world.child], image=ContentFile(buffer.getvalue(), name="p.jpg"))
    x, y, w, h = FACE
    faces = [DetectedFaceFactory(image=image, number=1, x=x, y=y, width=w, height=h, marking=FaceMarking.CHILD,
                                 child=world.child),
             DetectedFaceFactory(image=image, number=2, x=200, y=40, width=60, height=60)]
    return post, image, faces


def said(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request)]


def test_the_leader_blurs_a_face_from_its_row(client, world, photo):
    post, image, faces = photo
    client.force_login(world.leader)
    response = client.post(reverse("posts:blur_faces", args=[image.pk]), {"blur": [str(faces[1].pk)]})
    assert response.status_code == 302 and response.url.endswith(f"#faces-{image.pk}")
    assert said(response) == ["Blurring in photo 1 saved."]
    faces[1].refresh_from_db()
    assert faces[1].blur and post.events.last().actor == world.leader


def test_the_author_is_told_only_leadership_blurs_and_nothing_changes(client, world, photo):
    post, image, faces = photo
    client.force_login(world.practitioner)
    for url, data in [(reverse("posts:blur_faces", args=[image.pk]), {"blur": [str(faces[1].pk)]}),
                      (reverse("posts:blurring", args=[post.pk]), {"blur_unconsented": "on"})]:
        response = client.post(url, data)
        assert response.status_code == 302
        assert said(response)[-1] == "Only the leadership team can choose which faces are blurred."
    faces[1].refresh_from_db()
    post.refresh_from_db()
    assert not faces[1].blur and not post.blur_unconsented


def test_the_post_wide_choice_comes_back_to_where_it_was_made(client, world, photo):
    post, image, faces = photo
    client.force_login(world.leader)
    edit = reverse("posts:edit", args=[post.pk])
    response = client.post(reverse("posts:blurring", args=[post.pk]), {"blur_unconsented": "on", "next": edit})
    assert response.url == edit
    post.refresh_from_db()
    assert post.blur_unconsented
    client.post(reverse("posts:blurring", args=[post.pk]), {})
    post.refresh_from_db()
    assert not post.blur_unconsented


def face_change(content: bytes, image) -> float:
    x, y, w, h = FACE
    sent = np.asarray(Image.open(io.BytesIO(content)).convert("RGB"), dtype=np.int16)[y:y + h, x:x + w]
    stored = np.asarray(Image.open(image.image.open("rb")).convert("RGB"), dtype=np.int16)[y:y + h, x:x + w]
    return float(np.abs(sent - stored).mean())


def test_the_preview_of_each_scope_shows_what_its_channels_receive(client, world, photo):
    post, image, faces = photo
    post.blur_unconsented = True
    post.save()
    client.force_login(world.leader)

    public = client.get(reverse("posts:photo_copy", args=[image.pk, Scope.PUBLIC]))
    closed = client.get(reverse("posts:photo_copy", args=[image.pk, Scope.CLOSED]))

    assert public["Content-Type"] == "image/jpeg" and "no-store" in public["Cache-Control"]
    assert face_change(b"".join(public.streaming_content), image) > 40
    assert b"".join(closed.streaming_content) == image.image.open("rb").read()  # Amara's closed consent holds
    assert client.get(reverse("posts:photo_copy", args=[image.pk, "everyone"])).status_code == 404


def test_the_manual_channel_download_is_the_blurred_copy(client, world, photo, public_channel):
    post, image, faces = photo
    post.blur_unconsented, post.status = True, PostStatus.PUBLISHED
    post.save()
    Publication.objects.create(post=post, channel=public_channel, published_at=timezone.now(),
                               published_by=world.leader)
    client.force_login(world.leader)

    page = client.get(reverse("posts:detail", args=[post.pk])).content.decode()
    link = reverse("posts:photo_copy", args=[image.pk, Scope.PUBLIC]) + "?download=1"
    assert f'href="{link}"' in page

    response = client.get(link)
    assert response["Content-Disposition"] == f'attachment; filename="photo-{image.pk}-public.jpg"'
    assert face_change(b"".join(response.streaming_content), image) > 40


def test_only_leadership_sees_the_copies_and_the_blur_toggles(client, world, photo):
    post, image, faces = photo
    client.force_login(world.practitioner)
    page = client.get(reverse("posts:edit", args=[post.pk])).content.decode()
    assert "What each channel is sent" not in page and "Blur face 1" not in page
    client.force_login(world.leader)
    page = client.get(reverse("posts:edit", args=[post.pk])).content.decode()
    assert "What each channel is sent" in page and "Blur face 2 in every copy" in page
    assert reverse("posts:photo_copy", args=[image.pk, Scope.PUBLIC]) in page
