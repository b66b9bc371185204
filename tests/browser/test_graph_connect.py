"""A leader connects the nursery's Instagram account, on a desktop and on a phone; the token never shows again."""

import pytest
from playwright.sync_api import expect

from posts.meta.models import ChannelConnection
from tests.browser.conftest import login, shot
from tests.posts.graph.fake_graph import IG_USER, PAGE, VERSION

pytestmark = pytest.mark.browser
TOKEN = "EAAGbrowserJOURNEYtoken123"


@pytest.fixture
def meta(httpserver, settings):
    settings.META_GRAPH_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.META_GRAPH_VERSION = VERSION
    httpserver.expect_request(f"/{VERSION}/{IG_USER}", method="GET").respond_with_json(
        {"id": IG_USER, "username": "kidscountnursery"})
    httpserver.expect_request(f"/{VERSION}/{PAGE}", method="GET").respond_with_json(
        {"id": PAGE, "name": "Kids Count Nursery"})
    return httpserver


@pytest.mark.parametrize("screen", ["page", "phone_page"])
def test_a_leader_connects_instagram_and_never_sees_the_token_again(request, screen, demo, meta):
    page = request.getfixturevalue(screen)
    login(page, "leader")
    page.goto(page.base_url + "/posts/facebook-instagram/")
    shot(page, f"graph-overview-before-{screen}")
    page.get_by_role("link", name="Connect Instagram").click()
    page.get_by_label("Page access token").fill(TOKEN)
    shot(page, f"graph-connect-form-{screen}")
    page.get_by_role("button", name="Connect").click()
    page.wait_for_url(page.base_url + "/posts/facebook-instagram/")
    expect(page.locator("body")).to_contain_text("connected to Instagram as “kidscountnursery”")
    shot(page, f"graph-overview-connected-{screen}")
    assert TOKEN not in page.content()
    page.get_by_role("link", name="Replace token Instagram").click()
    assert page.get_by_label("Page access token").input_value() == ""
    assert TOKEN not in page.content()
    assert ChannelConnection.objects.get(channel__name="Instagram").access_token.reveal() == TOKEN
