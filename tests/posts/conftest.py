"""Posts' actors and a post picturing Amara, ready to submit."""

import pytest

from consent.models import Scope
from tests.posts.factories import ChannelFactory, OccasionFactory, PostFactory, PostImageFactory


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
