"""Deleting a published post, and hiding or deleting a comment, on Facebook and Instagram."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from nursery.errors import ServiceError
from posts.meta.client import GraphError
from posts.meta.comments import DELETE, HIDE, act_on_comment
from posts.meta.models import ChannelConnection, ConnectionStatus, DeliveryState, GraphDelivery
from posts.meta.publishing import take_down_delivery
from posts.meta.tasks import note_refused_token
from tests.posts.graph.fake_graph import PAGE, graph_error, path
from tests.posts.graph.media import photo_post


@pytest.fixture
def published(world, facebook_page):
    post = photo_post(world, photos=0, caption="Out there")
    return GraphDelivery.objects.create(post=post, channel=facebook_page, requested_by=world.leader,
                                        requested_at=timezone.now(), state=DeliveryState.PUBLISHED,
                                        external_id=f"{PAGE}_99", published_at=timezone.now())


@pytest.fixture
def take_down(django_capture_on_commit_callbacks, drain_outbox):
    """Ask for the deletion as the workflow does, and let the worker run it after commit (retries included)."""

    def take_down(user, delivery):
        with django_capture_on_commit_callbacks(execute=True):
            take_down_delivery(user, post=delivery.post, channel=delivery.channel)
        drain_outbox()
        delivery.refresh_from_db()
        return delivery

    return take_down


def test_a_takedown_deletes_the_post_on_the_platform_in_the_background(graph, world, published,
                                                                       django_capture_on_commit_callbacks):
    graph.expect_oneshot_request(path(f"{PAGE}_99"), method="DELETE").respond_with_json({"success": True})
    with django_capture_on_commit_callbacks() as callbacks:
        delivery = take_down_delivery(world.deputy, post=published.post, channel=published.channel)
    assert (delivery.state, delivery.removed_by) == (DeliveryState.REMOVING, world.deputy)
    assert not graph.log  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.removed_by) == (DeliveryState.REMOVED, world.deputy)
    assert delivery.error == {"deletion": {"success": True}}
    assert graph.log[0][0].method == "DELETE"
    assert delivery.history.first().history_user == world.deputy


def test_a_post_already_gone_from_the_platform_counts_as_removed(graph, world, published, take_down):
    graph.expect_oneshot_request(path(f"{PAGE}_99"), method="DELETE").respond_with_json(
        graph_error(100, "Unsupported delete request. Object does not exist", subcode=33), status=400)
    delivery = take_down(world.leader, published)
    assert delivery.state == DeliveryState.REMOVED and delivery.error["deletion"]["already_gone"]


def test_a_deletion_refused_for_a_while_is_retried_until_it_is_done(graph, world, published, take_down):
    for _ in range(2):
        graph.expect_oneshot_request(path(f"{PAGE}_99"), method="DELETE").respond_with_json(
            graph_error(2, "Service temporarily unavailable", transient=True), status=503)
    graph.expect_oneshot_request(path(f"{PAGE}_99"), method="DELETE").respond_with_json({"success": True})
    delivery = take_down(world.leader, published)
    assert (delivery.state, delivery.attempts) == (DeliveryState.REMOVED, 3)


def test_a_deletion_that_keeps_failing_stops_and_tells_leadership(graph, world, published, take_down):
    from nursery.models import Notification
    from posts.meta.publishing import MAX_ATTEMPTS

    graph.expect_request(path(f"{PAGE}_99"), method="DELETE").respond_with_json(
        graph_error(2, "Service temporarily unavailable"), status=503)
    delivery = take_down(world.leader, published)
    assert (delivery.state, delivery.attempts) == (DeliveryState.REMOVAL_FAILED, MAX_ATTEMPTS)
    assert delivery.removed_at is None and "still on Facebook" in delivery.error_message
    assert Notification.objects.filter(recipient=world.leader, subject__startswith="Still on").exists()


def test_an_expired_token_at_takedown_asks_for_reconnection_and_resumes_after(graph, world, published, take_down,
                                                                             django_capture_on_commit_callbacks,
                                                                             drain_outbox):
    from posts.meta.connections import connect_channel

    graph.expect_oneshot_request(path(f"{PAGE}_99"), method="DELETE").respond_with_json(graph_error(190),
                                                                                         status=400)
    delivery = take_down(world.leader, published)
    assert delivery.state == DeliveryState.REMOVAL_FAILED and "reconnect" in delivery.error_message
    assert ChannelConnection.objects.get().status == ConnectionStatus.RECONNECT
    with pytest.raises(ServiceError, match="needs reconnecting"):
        take_down_delivery(world.leader, post=published.post, channel=published.channel)
    graph.expect_oneshot_request(path(PAGE), method="GET").respond_with_json({"id": PAGE, "name": "Kids Count"})
    graph.expect_oneshot_request(path(f"{PAGE}_99"), method="DELETE").respond_with_json({"success": True})
    with django_capture_on_commit_callbacks(execute=True):
        connect_channel(world.leader, channel=published.channel, access_token="EAAGnewtoken")
    drain_outbox()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.REMOVED


def test_call_platform_marks_a_refused_token_at_once(graph, world, facebook_page):
    from posts.meta.publishing import call_platform

    graph.expect_oneshot_request(path("c1"), method="DELETE").respond_with_json(graph_error(190), status=400)
    with mock.patch("posts.meta.tasks.note_refused_token.apply_async") as note, pytest.raises(
        ServiceError, match="reconnect the channel"
    ):
        call_platform(facebook_page, lambda client: client.delete("c1"))
    (connection_id, why), _ = note.call_args.args
    note_refused_token(connection_id, why)
    assert ChannelConnection.objects.get().status == ConnectionStatus.RECONNECT


def test_the_sweep_restarts_a_deletion_whose_message_was_lost(world, published):
    from nursery.models import OutboxMessage
    from posts.meta.publishing import sweep_due

    published.state, published.removed_by = DeliveryState.REMOVING, world.leader
    published.save()
    assert sweep_due(now=timezone.now()) == 0
    assert sweep_due(now=timezone.now() + timedelta(minutes=6)) == 1
    (message,) = OutboxMessage.objects.filter(task_name="posts.meta.tasks.remove_from_platform")
    assert message.args == [published.pk]


def test_a_post_published_by_hand_is_left_to_the_leader(world, facebook_page):
    post = photo_post(world, photos=0)
    assert take_down_delivery(world.leader, post=post, channel=facebook_page) is None


@pytest.mark.parametrize("state", [DeliveryState.QUEUED, DeliveryState.RETRYING, DeliveryState.RECONNECT,
                                   DeliveryState.FAILED])
def test_a_post_still_waiting_is_stopped_without_calling_the_platform(graph, world, facebook_page, state):
    waiting = GraphDelivery.objects.create(post=photo_post(world, photos=0), channel=facebook_page, state=state,
                                           requested_by=world.leader, requested_at=timezone.now())
    delivery = take_down_delivery(world.leader, post=waiting.post, channel=facebook_page)
    assert delivery.state == DeliveryState.CANCELLED and "Taken down before it was sent" in delivery.error_message
    assert not graph.log


def test_a_post_being_sent_this_moment_cannot_be_taken_down_yet(graph, world, facebook_page):
    sending = GraphDelivery.objects.create(post=photo_post(world, photos=0), channel=facebook_page,
                                           state=DeliveryState.SENDING, requested_by=world.leader,
                                           requested_at=timezone.now(),
                                           lease_until=timezone.now() + timedelta(minutes=4))
    with pytest.raises(ServiceError, match="being sent to Public Facebook Page at this moment"):
        take_down_delivery(world.leader, post=sending.post, channel=facebook_page)


def test_a_post_made_by_an_interrupted_attempt_is_found_and_deleted(graph, world, facebook_page):
    post = photo_post(world, photos=0, caption="Interrupted")
    GraphDelivery.objects.create(post=post, channel=facebook_page, state=DeliveryState.RETRYING,
                                 requested_by=world.leader, requested_at=timezone.now(),
                                 publish_started_at=timezone.now())
    graph.expect_oneshot_request(path(PAGE, "feed"), method="GET").respond_with_json(
        {"data": [{"id": f"{PAGE}_61", "message": "Interrupted", "created_time": "2026-11-25T09:00:00+0000"}]})
    graph.expect_oneshot_request(path(f"{PAGE}_61"), method="DELETE").respond_with_json({"success": True})
    delivery = take_down_delivery(world.leader, post=post, channel=facebook_page)
    assert delivery.state == DeliveryState.CANCELLED
    assert "was deleted from Facebook" in delivery.error_message
    assert [r.method for r, _ in graph.log] == ["GET", "DELETE"]


def test_only_leadership_takes_posts_down(graph, world, published):
    with pytest.raises(ServiceError, match="Only the leadership team"):
        take_down_delivery(world.practitioner, post=published.post, channel=published.channel)
    assert not graph.log


def test_a_facebook_comment_is_hidden_with_is_hidden(graph, facebook_page):
    graph.expect_oneshot_request(path("c_1"), method="POST").respond_with_json({"success": True})
    assert act_on_comment(channel=facebook_page, comment_id="c_1", action=HIDE) == {"success": True}
    assert graph.log[0][0].form.to_dict() == {"is_hidden": "true"}


def test_an_instagram_comment_is_hidden_with_hide(graph, instagram_account):
    graph.expect_oneshot_request(path("ig_c_1"), method="POST").respond_with_json({"success": True})
    assert act_on_comment(channel=instagram_account, comment_id="ig_c_1", action=HIDE) == {"success": True}
    assert graph.log[0][0].form.to_dict() == {"hide": "true"}


def test_a_comment_is_deleted(graph, facebook_page):
    graph.expect_oneshot_request(path("c_2"), method="DELETE").respond_with_json({"success": True})
    assert act_on_comment(channel=facebook_page, comment_id="c_2", action=DELETE) == {"success": True}


def test_a_refused_comment_action_is_explained(graph, facebook_page):
    graph.expect_oneshot_request(path("c_3"), method="POST").respond_with_json(
        graph_error(200, "Permissions error"), status=403)
    with pytest.raises(GraphError) as caught:
        act_on_comment(channel=facebook_page, comment_id="c_3", action=HIDE)
    assert not caught.value.retryable and "pages_manage_engagement" in caught.value.explain()


def test_a_comment_already_gone_counts_as_deleted(graph, facebook_page):
    graph.expect_oneshot_request(path("c_4"), method="DELETE").respond_with_json(
        graph_error(100, "Object does not exist", subcode=33), status=400)
    assert act_on_comment(channel=facebook_page, comment_id="c_4", action=DELETE)["already_gone"]


def test_a_refused_token_on_a_comment_action_marks_the_channel(graph, facebook_page):
    graph.expect_oneshot_request(path("c_5"), method="POST").respond_with_json(graph_error(190), status=400)
    with pytest.raises(GraphError):
        act_on_comment(channel=facebook_page, comment_id="c_5", action=HIDE)
    assert ChannelConnection.objects.get().status == ConnectionStatus.RECONNECT
    with pytest.raises(ServiceError, match="needs reconnecting"):
        act_on_comment(channel=facebook_page, comment_id="c_5", action=HIDE)
