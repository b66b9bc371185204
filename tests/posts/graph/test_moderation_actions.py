"""The safeguarding lead hides or deletes a comment from the queue; the platform's answer is kept on the item."""

import pytest

from moderation.models import Action, ItemAction, PlatformActionStatus
from moderation.platform import perform_platform_action
from moderation.services import resolve_item
from nursery.models import Notification
from posts.meta.models import ChannelConnection, ConnectionStatus
from posts.meta.publishing import MAX_ATTEMPTS
from posts.models import Channel, Platform
from tests.moderation.factories import CommentFactory, ItemFactory
from tests.outbox import drain
from tests.posts.graph.fake_graph import graph_error, path


def decide(world, item, action, capture):
    with capture(execute=True):
        resolve_item(world.dsl, item_id=item.pk, action=action, reason="Names a child")
    drain()  # the retries, as the outbox's dispatcher sends them when due
    item.refresh_from_db()
    return item


def platform_notes(item):
    return list(item.actions.filter(kind=ItemAction.Kind.PLATFORM_ACTION).values_list("note", flat=True))


@pytest.fixture
def fb_item(world, facebook_page):
    return ItemFactory(comment=CommentFactory(channel=facebook_page, external_id="100000000000002_555_777",
                                              text="Amara Okafor looks so sweet"))


@pytest.fixture
def ig_item(world, instagram_account):
    return ItemFactory(comment=CommentFactory(channel=instagram_account, external_id="17990000000000001",
                                              text="message me privately"))


def test_hiding_a_facebook_comment_sends_is_hidden_and_keeps_the_answer(graph, world, fb_item,
                                                                        django_capture_on_commit_callbacks):
    graph.expect_oneshot_request(path("100000000000002_555_777"), method="POST").respond_with_json(
        {"success": True})
    item = decide(world, fb_item, Action.HIDE, django_capture_on_commit_callbacks)
    assert graph.log[0][0].form.to_dict() == {"is_hidden": "true"}
    assert item.platform_action_status == PlatformActionStatus.DONE
    assert platform_notes(item)[-1] == 'Hidden on Facebook. Facebook answered: {"success": true}'
    assert item.comment.state == "visible", "the comment's state changes when the platform's webhook says so"


def test_hiding_an_instagram_comment_sends_hide(graph, world, ig_item, django_capture_on_commit_callbacks):
    graph.expect_oneshot_request(path("17990000000000001"), method="POST").respond_with_json({"success": True})
    item = decide(world, ig_item, Action.HIDE, django_capture_on_commit_callbacks)
    assert graph.log[0][0].form.to_dict() == {"hide": "true"}
    assert item.platform_action_status == PlatformActionStatus.DONE


def test_deleting_a_comment_sends_delete(graph, world, fb_item, django_capture_on_commit_callbacks):
    graph.expect_oneshot_request(path("100000000000002_555_777"), method="DELETE").respond_with_json(
        {"success": True})
    item = decide(world, fb_item, Action.DELETE, django_capture_on_commit_callbacks)
    assert graph.log[0][0].method == "DELETE"
    assert item.platform_action_status == PlatformActionStatus.DONE
    assert platform_notes(item)[-1].startswith("Deleted on Facebook.")


def test_throttling_is_retried_then_succeeds(graph, world, fb_item, django_capture_on_commit_callbacks):
    graph.expect_oneshot_request(path("100000000000002_555_777"), method="POST").respond_with_json(
        graph_error(32, "Page request limit reached"), status=400)
    graph.expect_oneshot_request(path("100000000000002_555_777"), method="POST").respond_with_json(
        {"success": True})
    item = decide(world, fb_item, Action.HIDE, django_capture_on_commit_callbacks)
    assert len(graph.log) == 2
    assert item.platform_action_status == PlatformActionStatus.DONE
    assert any("Next try in 30 seconds" in note for note in platform_notes(item))


def test_retries_stop_at_the_cap_and_the_safeguarding_lead_is_told(graph, world, fb_item,
                                                                   django_capture_on_commit_callbacks):
    graph.expect_request(path("100000000000002_555_777"), method="POST").respond_with_json(
        graph_error(2, "Service temporarily unavailable"), status=503)
    item = decide(world, fb_item, Action.HIDE, django_capture_on_commit_callbacks)
    assert len(graph.log) == MAX_ATTEMPTS
    assert item.platform_action_status == PlatformActionStatus.FAILED
    notice = Notification.objects.filter(recipient=world.dsl).last()
    assert notice.subject.startswith("Could not hide on the platform: do it by hand on Facebook")
    assert "Amara Okafor looks so sweet" in notice.body and "temporary problem" in notice.body


def test_an_expired_token_fails_at_once_and_asks_for_reconnection(graph, world, fb_item,
                                                                  django_capture_on_commit_callbacks):
    graph.expect_request(path("100000000000002_555_777"), method="POST").respond_with_json(
        graph_error(190, "Session has expired"), status=400)
    item = decide(world, fb_item, Action.HIDE, django_capture_on_commit_callbacks)
    assert len(graph.log) == 1
    assert item.platform_action_status == PlatformActionStatus.FAILED
    assert "reconnect the channel" in platform_notes(item)[-1]
    assert ChannelConnection.objects.get().status == ConnectionStatus.RECONNECT


def test_running_the_task_twice_acts_once(graph, world, fb_item, django_capture_on_commit_callbacks):
    graph.expect_oneshot_request(path("100000000000002_555_777"), method="POST").respond_with_json(
        {"success": True})
    item = decide(world, fb_item, Action.HIDE, django_capture_on_commit_callbacks)
    assert perform_platform_action(item.pk) is None
    assert len(graph.log) == 1


def test_a_comment_on_an_unconnected_channel_waits_for_a_person(graph, world, django_capture_on_commit_callbacks):
    manual = Channel.objects.create(nursery=world.nursery, name="Families group", platform=Platform.FACEBOOK,
                                    audience="closed", external_id="100000000000001")
    item = ItemFactory(comment=CommentFactory(channel=manual, external_id="100000000000001_1_2"))
    item = decide(world, item, Action.HIDE, django_capture_on_commit_callbacks)
    assert not graph.log
    assert item.platform_action_status == PlatformActionStatus.AWAITING
    assert "done by hand there" in platform_notes(item)[-1]
