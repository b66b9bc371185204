"""What leaves the app for Facebook and Instagram is the copy made for the channel's scope, faces blurred."""

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.test import RequestFactory
from PIL import Image

from consent.models import Scope
from posts.meta.publishing import queue_delivery
from posts.models import FaceMarking
from posts.signed_media import sign_image, signed_image
from tests.factories import grant
from tests.posts.factories import DetectedFaceFactory, PostImageFactory
from tests.posts.graph.fake_graph import PAGE, path
from tests.posts.graph.media import photo_post
from tests.posts.graph.test_delivery import requests_to

FACE = (60, 40, 80, 80)  # x, y, width, height


def busy_jpeg() -> bytes:
    noise = np.random.default_rng(7).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def blurred_post(world):
    """Amara has closed consent only; the post goes to public channels with children without consent blurred."""
    grant(world.child, Scope.CLOSED)
    post = photo_post(world, photos=0, caption="Sports day")
    post.blur_unconsented = True
    post.save()
    image = PostImageFactory(post=post, children=[world.child], image=ContentFile(busy_jpeg(), name="busy.jpg"))
    x, y, w, h = FACE
    DetectedFaceFactory(image=image, number=1, x=x, y=y, width=w, height=h, marking=FaceMarking.CHILD,
                        child=world.child)
    return post, image


def face_change(sent: bytes, original: bytes) -> float:
    x, y, w, h = FACE
    a = np.asarray(Image.open(io.BytesIO(sent)).convert("RGB"), dtype=np.int16)[y:y + h, x:x + w]
    b = np.asarray(Image.open(io.BytesIO(original)).convert("RGB"), dtype=np.int16)[y:y + h, x:x + w]
    return float(np.abs(a - b).mean())


def test_facebook_is_sent_the_public_copy_with_the_child_blurred(graph, world, facebook_page, blurred_post,
                                                                 django_capture_on_commit_callbacks, drain_outbox):
    post, image = blurred_post
    graph.expect_oneshot_request(path(PAGE, "photos"), method="POST").respond_with_json({"id": "9001"})
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": f"{PAGE}_7"})
    graph.expect_oneshot_request(path(f"{PAGE}_7"), method="GET").respond_with_json({"permalink_url": "https://fb/7"})

    with django_capture_on_commit_callbacks(execute=True):
        delivery = queue_delivery(world.leader, post=post, channel=facebook_page)
    drain_outbox()
    delivery.refresh_from_db()
    assert delivery.state == "published"

    (upload,) = requests_to(graph, path(PAGE, "photos"))
    sent, original = upload.files["source"].read(), image.image.open("rb").read()
    assert sent != original
    assert face_change(sent, original) > 40  # random noise averaged away: far beyond JPEG's 1-2 levels


def test_instagram_fetches_the_public_copy_with_the_child_blurred(world, blurred_post):
    post, image = blurred_post
    token = sign_image(image, scope=Scope.PUBLIC)
    response = signed_image(RequestFactory().get(f"/m/{token}/"), token)
    sent, original = b"".join(response.streaming_content), image.image.open("rb").read()
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert face_change(sent, original) > 40


def test_without_the_blur_instagram_gets_nothing(world, blurred_post):
    from django.http import Http404

    post, image = blurred_post
    post.blur_unconsented = False
    post.save()
    token = sign_image(image, scope=Scope.PUBLIC)
    with pytest.raises(Http404):
        signed_image(RequestFactory().get(f"/m/{token}/"), token)
