"""The posts workflow with a channel that publishes through the Graph API: publish, withdraw, take down."""

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import Scope
from consent.services import withdraw_consent
from nursery.errors import ServiceError
from nursery.models import Notification
from posts import services
from posts.meta.models import ChannelConnection, DeliveryState, GraphDelivery
from posts.models import PostStatus, Publication, Takedown
from tests.factories import grant
from tests.posts.graph.fake_graph import PAGE, graph_error, path
from tests.posts.graph.media import photo_post


@pytest.fixture
def graph_page(facebook_page):
    facebook_page.publisher = "meta_graph"
    facebook_page.save()
    return facebook_page


@pytest.fixture
def approved(world, graph_page):
    grant(world.child, Scope.PUBLIC)
    return photo_post(world, children=[world.child], caption="Our Christmas concert", channels=[graph_page])


def answer_photo_post(graph, post_id=f"{PAGE}_300"):
    graph.expect_oneshot_request(path(PAGE, "photos"), method="POST").respond_with_json({"id": "9001"})
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": post_id})
    graph.expect_oneshot_request(path(post_id), method="GET").respond_with_json(
        {"permalink_url": f"https://www.facebook.com/{post_id}"})


def test_publishing_records_the_publication_and_the_worker_fills_in_the_platform_id(
        graph, world, approved, graph_page, django_capture_on_commit_callbacks):
    answer_photo_post(graph)
    with django_capture_on_commit_callbacks() as callbacks:
        (publication,) = services.publish_post(world.leader, post=approved)
    assert not graph.log  # nothing leaves before the publishing transaction commits
    assert (publication.external_id, publication.url) == ("", "")
    for callback in callbacks:
        callback()

    publication.refresh_from_db()
    approved.refresh_from_db()
    assert approved.status == PostStatus.PUBLISHED
    assert (publication.external_id, publication.url) == (f"{PAGE}_300", f"https://www.facebook.com/{PAGE}_300")
    assert GraphDelivery.objects.get().state == DeliveryState.PUBLISHED


def test_publishing_to_a_channel_that_is_not_connected_is_refused_and_nothing_changes(world, approved, graph_page):
    ChannelConnection.objects.all().delete()
    with pytest.raises(ServiceError, match="not connected to Facebook"):
        services.publish_post(world.leader, post=approved)
    approved.refresh_from_db()
    assert approved.status == PostStatus.APPROVED
    assert not Publication.objects.exists() and not GraphDelivery.objects.exists()


def test_a_withdrawal_while_the_worker_waits_stops_the_post_and_opens_a_takedown(
        graph, world, approved, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.publish_post(world.leader, post=approved)
    with django_capture_on_commit_callbacks(execute=True):
        withdraw_consent(world.parent, child=world.child, scope=Scope.PUBLIC)
    for callback in callbacks:
        callback()

    assert not graph.log
    delivery = GraphDelivery.objects.get()
    assert delivery.state == DeliveryState.CANCELLED and "Amara" in delivery.error_message
    takedown = Takedown.objects.get(post=approved)
    # confirming that takedown needs no platform call: the post never went out
    services.confirm_takedown(world.leader, takedown=takedown, note="Never sent.")
    assert Publication.objects.get().removed_at is not None
    assert not graph.log


def test_taking_a_post_down_deletes_it_on_the_platform_in_the_background(graph, world, approved,
                                                                        django_capture_on_commit_callbacks):
    answer_photo_post(graph)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_post(world.leader, post=approved)
    graph.expect_oneshot_request(path(f"{PAGE}_300"), method="DELETE").respond_with_json({"success": True})

    with django_capture_on_commit_callbacks(execute=True):
        services.take_down_post(world.deputy, post=approved, reason="A parent asked us to.")

    assert graph.log[-1][0].method == "DELETE" and graph.log[-1][0].path == path(f"{PAGE}_300")
    publication = Publication.objects.get()
    assert (publication.removed_by, GraphDelivery.objects.get().state) == (world.deputy, DeliveryState.REMOVED)


@pytest.fixture
def takedown_of_live_post(graph, world, approved, django_capture_on_commit_callbacks):
    answer_photo_post(graph)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_post(world.leader, post=approved)
    withdraw_consent(world.parent, child=world.child, scope=Scope.PUBLIC)
    services.handle_consent_withdrawal(child_id=world.child.pk, scope=Scope.PUBLIC)
    return Takedown.objects.get()


def test_a_takedown_the_platform_refuses_at_first_is_retried_until_the_post_is_down(
        graph, world, approved, takedown_of_live_post, django_capture_on_commit_callbacks, drain_outbox):
    graph.expect_oneshot_request(path(f"{PAGE}_300"), method="DELETE").respond_with_json(
        graph_error(2, "Service temporarily unavailable"), status=503)
    graph.expect_oneshot_request(path(f"{PAGE}_300"), method="DELETE").respond_with_json({"success": True})
    before = Notification.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_takedown(world.leader, takedown=takedown_of_live_post, note="Please delete it.")
    drain_outbox()

    takedown = Takedown.objects.get()
    assert (takedown.is_open, takedown.confirmed_by, takedown.confirmation_note) == (
        False, world.leader, "Please delete it.")
    assert Publication.objects.get().removed_at is not None
    approved.refresh_from_db()
    assert approved.status == PostStatus.TAKEN_DOWN
    told = Notification.objects.order_by("pk")[before:]
    parent_notice = [n for n in told if n.recipient == world.parent]
    assert len(parent_notice) == 1 and "removed from every public channel" in parent_notice[0].body
    assert [n for n in told if n.recipient == approved.author and n.subject == "Your post is down everywhere"]


def test_a_takedown_still_deleting_stays_open_and_the_page_shows_progress(
        client, graph, world, approved, takedown_of_live_post, django_capture_on_commit_callbacks, drain_outbox):
    graph.expect_request(path(f"{PAGE}_300"), method="DELETE").respond_with_json(
        graph_error(100, "Permissions error", kind="GraphMethodException"), status=400)
    client.force_login(world.leader)
    url = reverse("posts:takedown", args=[takedown_of_live_post.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"note": ""})
    drain_outbox()
    assert response.status_code == 302 and response["Location"] == url
    takedown_of_live_post.refresh_from_db()
    assert takedown_of_live_post.is_open and takedown_of_live_post.removal_requested_by == world.leader
    assert GraphDelivery.objects.get().state == DeliveryState.REMOVAL_FAILED
    page = client.get(url).content.decode()
    assert "Still on Facebook." in page and "Try again" in page and "Removal requested by" in page
    assert not Notification.objects.filter(recipient=world.parent, subject="The post has been taken down").exists()


def test_a_takedown_of_a_post_published_by_hand_tells_the_parent_at_once(world):
    from posts.models import Channel

    grant(world.child, Scope.PUBLIC)
    channel = Channel.objects.create(nursery=world.nursery, name="Website", platform="website",
                                     audience=Scope.PUBLIC)
    post = photo_post(world, children=[world.child], caption="Graduation", channels=[channel])
    services.publish_post(world.leader, post=post, urls={channel.pk: "https://example.org/grad"})
    withdraw_consent(world.parent, child=world.child, scope=Scope.PUBLIC)
    services.handle_consent_withdrawal(child_id=world.child.pk, scope=Scope.PUBLIC)
    services.confirm_takedown(world.leader, takedown=Takedown.objects.get(), note="Removed from the website.")
    assert Notification.objects.filter(recipient=world.parent, subject="The post has been taken down").count() == 1


def test_the_leader_publishes_from_the_post_page_without_typing_an_address(
        graph, client, world, approved, django_capture_on_commit_callbacks):
    answer_photo_post(graph)
    client.force_login(world.leader)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("posts:publish", args=[approved.pk]), follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Published" in body
    assert GraphDelivery.objects.get().state == DeliveryState.PUBLISHED
    page = client.get(reverse("posts:detail", args=[approved.pk])).content.decode()
    assert "Facebook and Instagram" in page and f"https://www.facebook.com/{PAGE}_300" in page


def test_the_post_page_shows_a_failure_in_plain_words_with_a_retry(client, world, approved, graph_page):
    GraphDelivery.objects.create(post=approved, channel=graph_page, requested_by=world.leader,
                                 requested_at=timezone.now(), state=DeliveryState.FAILED,
                                 error_message="Facebook refused this and it will not be retried.")
    client.force_login(world.leader)
    page = client.get(reverse("posts:detail", args=[approved.pk])).content.decode()
    assert "Facebook refused this and it will not be retried." in page
    assert reverse("posts:delivery_retry", args=[GraphDelivery.objects.get().pk]) in page


def test_a_scheduled_post_goes_out_through_the_worker_at_its_time(graph, world, approved,
                                                                  django_capture_on_commit_callbacks):
    approved.approved_by, approved.scheduled_for = world.leader, timezone.now()
    approved.save()
    answer_photo_post(graph)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.publish_scheduled_post(post_id=approved.pk)
    assert GraphDelivery.objects.get().state == DeliveryState.PUBLISHED
    assert Publication.objects.get().external_id == f"{PAGE}_300"


def test_a_scheduled_post_for_a_channel_needing_reconnection_is_held_with_the_reason(world, approved):
    approved.approved_by, approved.scheduled_for = world.leader, timezone.now()
    approved.save()
    ChannelConnection.objects.update(status="reconnect")
    assert not services.publish_scheduled_post(post_id=approved.pk)
    approved.refresh_from_db()
    assert approved.status != PostStatus.PUBLISHED
    assert not GraphDelivery.objects.exists() and not Publication.objects.exists()
    assert "needs reconnecting to Facebook" in approved.events.last().note
