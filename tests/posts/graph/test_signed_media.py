"""Photos fetched by Instagram: signed, expiring, for the processed photo only, and only while consent holds."""

import time

import pytest
from django.core import signing
from django.http import Http404
from django.test import RequestFactory

from consent.models import Scope
from consent.services import withdraw_consent
from posts.models import PostStatus
from posts.signed_media import SALT, image_for_token, sign_image, signed_image
from tests.factories import grant
from tests.posts.graph.media import photo_post


@pytest.fixture
def image(world):
    grant(world.child, Scope.PUBLIC)
    return photo_post(world, children=[world.child]).images.get()


def fetch(token, method="get"):
    return signed_image(getattr(RequestFactory(), method)(f"/m/{token}/"), token)


def test_it_serves_the_processed_photo_to_anyone_holding_the_signed_address(image):
    response = fetch(sign_image(image, scope=Scope.PUBLIC))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == image.image.open("rb").read()
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]


def test_a_tampered_address_is_a_404(image, world):
    token = sign_image(image, scope=Scope.PUBLIC)
    other = photo_post(world, caption="Another post").images.get()
    value, signature = token.rsplit(":", 1)
    forged = signing.TimestampSigner(salt=SALT).sign_object({"image": other.pk, "scope": Scope.PUBLIC})
    for bad in (value + ":" + signature[::-1], forged.rsplit(":", 1)[0] + ":" + signature, "1:abc:def", "garbage"):
        with pytest.raises(Http404):
            fetch(bad)


def test_a_token_signed_for_another_purpose_is_refused(image):
    token = signing.TimestampSigner().sign_object({"image": image.pk, "scope": Scope.PUBLIC})
    with pytest.raises(Http404):
        fetch(token)


def test_an_expired_address_is_a_404(image, settings):
    settings.SIGNED_MEDIA_MAX_AGE_SECONDS = 1
    token = sign_image(image, scope=Scope.PUBLIC)
    assert image_for_token(token) == image
    time.sleep(2.1)
    with pytest.raises(Http404):
        fetch(token)


def test_it_stops_serving_once_consent_is_withdrawn(image, world):
    token = sign_image(image, scope=Scope.PUBLIC)
    withdraw_consent(world.parent, child=world.child, scope=Scope.PUBLIC)
    with pytest.raises(Http404):
        fetch(token)


def test_it_serves_no_photo_of_a_post_that_is_not_approved(world, image):
    token = sign_image(image, scope=Scope.PUBLIC)
    for status in (PostStatus.DRAFT, PostStatus.SUBMITTED, PostStatus.REJECTED, PostStatus.TAKEN_DOWN):
        image.post.status = status
        image.post.save()
        with pytest.raises(Http404):
            fetch(token)


def test_it_answers_only_reads(image):
    assert fetch(sign_image(image, scope=Scope.PUBLIC), method="post").status_code == 405
