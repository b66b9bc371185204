"""Posts' actors and a post picturing Amara, ready to submit."""

import importlib.util
import sys
import types
from dataclasses import dataclass, field

import pytest
from django.core.files.base import ContentFile

from consent.models import Scope
from tests.posts.factories import ChannelFactory, OccasionFactory, PostFactory, PostImageFactory, jpeg_bytes


@pytest.fixture(autouse=True)
def _media_modules_until_media_lands(monkeypatch):
    # posts/captions.py and posts/images.py are written on the media branch; until they land on main,
    # minimal stand-ins: a caption check that finds nothing, and photos stored as uploaded.
    if importlib.util.find_spec("posts.captions") is None:
        @dataclass
        class CaptionCheck:
            blocking: list = field(default_factory=list)
            warnings: list = field(default_factory=list)

        captions = types.ModuleType("posts.captions")
        captions.check_caption = lambda caption, *, nursery, pictured_children: CaptionCheck()
        monkeypatch.setitem(sys.modules, "posts.captions", captions)
    if importlib.util.find_spec("posts.images") is None:
        images = types.ModuleType("posts.images")
        images.process_upload = lambda upload: types.SimpleNamespace(
            image=ContentFile(upload.read(), name="photo.jpg"), thumbnail=ContentFile(jpeg_bytes(), name="thumb.jpg"),
            width=64, height=48,
        )
        monkeypatch.setitem(sys.modules, "posts.images", images)


@pytest.fixture
def closed_channel(world):
    return ChannelFactory(nursery=world.nursery, name="Families group", audience=Scope.CLOSED)


@pytest.fixture
def public_channel(world):
    return ChannelFactory(nursery=world.nursery, name="Public Facebook Page", audience=Scope.PUBLIC)


@pytest.fixture
def occasion(world):
    return OccasionFactory(nursery=world.nursery, name="Christmas concert")


@pytest.fixture
def make_post(world, closed_channel, occasion):
    """A draft by the practitioner with one photo of Amara, for the closed channel unless told otherwise."""

    def make(*, author=None, channels=None, children=None, **fields):
        fields.setdefault("occasion", occasion)
        post = PostFactory(
            nursery=world.nursery, author=author or world.practitioner,
            channels=channels if channels is not None else [closed_channel], **fields,
        )
        PostImageFactory(post=post, children=children if children is not None else [world.child])
        return post

    return make
