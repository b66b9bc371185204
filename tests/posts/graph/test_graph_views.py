"""Leadership connects a channel with a token that is never shown again, and follows deliveries."""

import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import Scope
from posts.meta.models import ChannelConnection, ConnectionStatus, DeliveryState, GraphDelivery
from posts.models import Channel, Platform
from tests.posts.graph.fake_graph import PAGE, TOKEN, graph_error, path
from tests.posts.graph.media import photo_post

NEW_TOKEN = "EAAGbrandNEWtoken9876543210"


@pytest.fixture
def unconnected_page(world):
    return Channel.objects.create(nursery=world.nursery, name="Public Facebook Page", platform=Platform.FACEBOOK,
                                  audience=Scope.PUBLIC, external_id=PAGE)


def test_a_leader_connects_a_page_once_the_platform_accepts_the_token(graph, client, world, unconnected_page,
                                                                      caplog):
    graph.expect_oneshot_request(path(PAGE), method="GET").respond_with_json({"id": PAGE, "name": "Kids Count"})
    client.force_login(world.leader)
    url = reverse("posts:channel_connection", args=[unconnected_page.pk])
    with caplog.at_level(logging.DEBUG):
        response = client.post(url, {"access_token": f"  {NEW_TOKEN} "}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("posts:graph_overview")
    connection = ChannelConnection.objects.get(channel=unconnected_page)
    assert (connection.access_token.reveal(), connection.account_name, connection.connected_by) == (
        NEW_TOKEN, "Kids Count", world.leader)
    assert graph.log[0][0].headers["Authorization"] == f"Bearer {NEW_TOKEN}"
    assert graph.log[0][0].args["fields"] == "id,name"
    assert "connected to Facebook as “Kids Count”" in response.content.decode()
    assert NEW_TOKEN not in response.content.decode() and NEW_TOKEN not in caplog.text
    page = client.get(url).content.decode()
    assert NEW_TOKEN not in page and "Connected as “Kids Count”" in page
    history = connection.history.get()
    assert history.history_user == world.leader and not hasattr(history, "access_token")


def test_a_token_the_platform_refuses_is_not_kept_and_the_leader_is_told_why(graph, client, world, unconnected_page):
    graph.expect_oneshot_request(path(PAGE), method="GET").respond_with_json(
        graph_error(190, "Invalid OAuth access token - Cannot parse access token"), status=400)
    client.force_login(world.leader)
    response = client.post(reverse("posts:channel_connection", args=[unconnected_page.pk]),
                           {"access_token": NEW_TOKEN})
    assert response.status_code == 400
    body = response.content.decode()
    assert "did not accept this token" in body and "Cannot parse access token" in body
    assert NEW_TOKEN not in body  # the password box is not filled back in
    assert not ChannelConnection.objects.exists()


def test_an_empty_token_is_a_field_error(client, world, unconnected_page):
    client.force_login(world.leader)
    response = client.post(reverse("posts:channel_connection", args=[unconnected_page.pk]), {"access_token": ""})
    assert response.status_code == 400 and "This field is required" in response.content.decode()


def test_a_practitioner_cannot_open_or_post_the_connection_page(client, world, unconnected_page):
    client.force_login(world.practitioner)
    url = reverse("posts:channel_connection", args=[unconnected_page.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"access_token": NEW_TOKEN}).status_code == 403
    assert not ChannelConnection.objects.exists()


def test_another_nurserys_channel_is_a_404(client, world):
    theirs = Channel.objects.create(nursery=world.other_nursery, name="Acorns", platform=Platform.FACEBOOK,
                                    audience=Scope.CLOSED, external_id="100000000000009")
    client.force_login(world.leader)
    assert client.get(reverse("posts:channel_connection", args=[theirs.pk])).status_code == 404


def test_a_website_channel_has_nothing_to_connect(client, world):
    website = Channel.objects.create(nursery=world.nursery, name="Website", platform=Platform.WEBSITE,
                                     audience=Scope.PUBLIC)
    client.force_login(world.leader)
    assert client.get(reverse("posts:channel_connection", args=[website.pk])).status_code == 404


def test_disconnecting_deletes_the_token(client, world, facebook_page):
    client.force_login(world.leader)
    response = client.post(reverse("posts:channel_disconnect", args=[facebook_page.pk]), follow=True)
    assert "its token has been deleted" in response.content.decode()
    assert not ChannelConnection.objects.exists()
    assert client.get(reverse("posts:channel_disconnect", args=[facebook_page.pk])).status_code == 405


def test_the_overview_shows_connections_and_deliveries_without_the_token(client, world, facebook_page,
                                                                         django_assert_max_num_queries):
    ChannelConnection.objects.filter(channel=facebook_page).update(
        status=ConnectionStatus.RECONNECT, problem="The connection to Facebook has expired.")
    GraphDelivery.objects.create(post=photo_post(world, photos=0, caption="Held post"), channel=facebook_page,
                                 requested_by=world.leader, requested_at=timezone.now(),
                                 state=DeliveryState.RECONNECT, error_message="Reconnect to send it.")
    client.force_login(world.leader)
    with django_assert_max_num_queries(12):
        body = client.get(reverse("posts:graph_overview")).content.decode()
    assert "Reconnect needed" in body and "The connection to Facebook has expired." in body
    assert "Held post" in body and "Reconnect to send it." in body
    assert TOKEN not in body


@pytest.mark.parametrize("rows", [5, 500])
def test_the_overview_keeps_its_query_budget(client, world, facebook_page, rows, django_assert_max_num_queries):
    for n in range(rows):
        GraphDelivery.objects.create(post=photo_post(world, photos=0, caption=f"Post {n}"), channel=facebook_page,
                                     requested_by=world.leader, requested_at=timezone.now(),
                                     state=DeliveryState.FAILED if n % 2 else DeliveryState.PUBLISHED)
    client.force_login(world.leader)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("posts:graph_overview")).status_code == 200


def test_a_leader_tries_a_failed_delivery_again(graph, client, world, facebook_page,
                                                django_capture_on_commit_callbacks):
    post = photo_post(world, photos=0, caption="Try me again")
    delivery = GraphDelivery.objects.create(post=post, channel=facebook_page, requested_by=world.practitioner,
                                            requested_at=timezone.now(), state=DeliveryState.FAILED, attempts=8)
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": f"{PAGE}_8"})
    graph.expect_oneshot_request(path(f"{PAGE}_8"), method="GET").respond_with_json({"permalink_url": "https://fb/8"})
    client.force_login(world.leader)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("posts:delivery_retry", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.requested_by) == (DeliveryState.PUBLISHED, 1, world.leader)


def test_only_a_failed_delivery_can_be_tried_again(client, world, facebook_page):
    delivery = GraphDelivery.objects.create(post=photo_post(world, photos=0), channel=facebook_page,
                                            requested_by=world.leader, requested_at=timezone.now(),
                                            state=DeliveryState.PUBLISHED)
    client.force_login(world.leader)
    response = client.post(reverse("posts:delivery_retry", args=[delivery.pk]), follow=True)
    assert "Only a failed delivery can be tried again" in response.content.decode()


def test_leadership_home_shows_what_did_not_reach_the_platforms(client, world, facebook_page):
    ChannelConnection.objects.filter(channel=facebook_page).update(status=ConnectionStatus.RECONNECT)
    GraphDelivery.objects.create(post=photo_post(world, photos=0), channel=facebook_page, requested_by=world.leader,
                                 requested_at=timezone.now(), state=DeliveryState.FAILED)
    client.force_login(world.leader)
    home = client.get(reverse("home")).content.decode()
    assert "1</strong> post could not be sent" in home and "Public Facebook Page needs reconnecting" in home
    client.force_login(world.practitioner)
    assert "could not be sent" not in client.get(reverse("home")).content.decode()


def test_leadership_home_is_quiet_when_everything_went_out(client, world, facebook_page):
    client.force_login(world.leader)
    assert "home-graph" not in client.get(reverse("home")).content.decode()
