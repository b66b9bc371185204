"""A local server that answers like Meta's Graph API (nothing in these tests reaches the internet),
and connected Facebook and Instagram channels of the world's nursery."""

import pytest
from django.utils import timezone

from consent.models import Scope
from posts.meta.models import ChannelConnection
from posts.models import Channel, Platform
from tests.posts.graph.fake_graph import IG_USER, PAGE, TOKEN, VERSION


@pytest.fixture
def graph(httpserver, settings):
    settings.META_GRAPH_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.META_GRAPH_VERSION = VERSION
    settings.META_GRAPH_TIMEOUT_SECONDS = 2
    settings.SITE_URL = "https://safe.example.org"
    return httpserver


def connected(world, name, platform, external_id):
    channel = Channel.objects.create(nursery=world.nursery, name=name, platform=platform, audience=Scope.PUBLIC,
                                     external_id=external_id)
    ChannelConnection.objects.create(channel=channel, access_token=TOKEN, account_name=name,
                                     connected_by=world.leader, connected_at=timezone.now())
    return channel


@pytest.fixture
def facebook_page(world):
    return connected(world, "Public Facebook Page", Platform.FACEBOOK, PAGE)


@pytest.fixture
def instagram_account(world):
    return connected(world, "Instagram", Platform.INSTAGRAM, IG_USER)
