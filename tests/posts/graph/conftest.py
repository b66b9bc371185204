"""A local server that answers like Meta's Graph API: nothing in these tests reaches the internet."""

import pytest

from tests.posts.graph.fake_graph import VERSION


@pytest.fixture
def graph(httpserver, settings):
    settings.META_GRAPH_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.META_GRAPH_VERSION = VERSION
    settings.META_GRAPH_TIMEOUT_SECONDS = 2
    return httpserver
