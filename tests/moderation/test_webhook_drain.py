"""The drain takes received deliveries in batches: the same rows as one at a time, in a fixed number of queries."""

import pytest
from django.db import connection

from moderation.models import (
    Comment,
    CommentEvent,
    CommentState,
    CommentVersion,
    ItemAction,
    ModerationItem,
    Priority,
    RuleHit,
    WebhookDelivery,
)
from moderation.services import drain_deliveries, receive_delivery
from nursery.models import Notification, OutboxMessage
from tests.moderation.conftest import IG_ID, PAGE_ID
from tests.moderation.factories import body, feed_change, instagram_change, instagram_delivery, page_delivery

TEXTS = ["Lovely sports day!", "Amara Okafor looks so happy", "Message me on 07700 900123", "I took a screenshot"]


def store(payload) -> None:
    raw = body(payload)
    receive_delivery(body=raw, object_type=payload["object"])


def store_comments(count, *, start=0):
    for n in range(start, start + count):
        store(page_delivery(PAGE_ID, feed_change(comment_id=f"4001_{n}", message=TEXTS[n % 4], post_id="4001"),
                            time=n))


def test_a_batch_stores_screens_and_queues_every_new_comment(world, page_channel):
    store_comments(8)
    assert drain_deliveries() == 8
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PROCESSED).count() == 8
    assert Comment.objects.count() == CommentVersion.objects.count() == CommentEvent.objects.count() == 8
    items = {i.comment.text: i for i in ModerationItem.objects.select_related("comment")}
    assert items["Lovely sports day!"].priority == Priority.ACKNOWLEDGE
    assert items["Amara Okafor looks so happy"].hits.filter(category="child_named").exists()
    assert items["Message me on 07700 900123"].priority == Priority.HIGH
    assert ItemAction.objects.filter(kind=ItemAction.Kind.OPENED).count() == 8
    assert "New comment from the platform. Screened:" in ItemAction.objects.first().note
    comment = Comment.objects.get(external_id="4001_2")
    assert comment.link.startswith("https://www.facebook.com/") and comment.author_name == "Jo Parker"
    # Audited as one at a time: a history row per comment and per item, with the reason.
    assert comment.history.get().history_change_reason == "Platform webhook (facebook)"
    assert items["Lovely sports day!"].history.count() == 1


def test_the_reviewers_are_told_once_per_batch_about_what_was_flagged(world, page_channel):
    store_comments(8)
    drain_deliveries()
    flagged = ModerationItem.objects.filter(priority__gte=Priority.HIGH).count()
    assert flagged >= 2
    told = Notification.objects.get(recipient=world.dsl)
    assert told.subject == f"{flagged} comments need review now" and "07700 900123" in told.body
    assert OutboxMessage.objects.count() == 1, "one email for the batch, not one per comment"


def test_a_comment_in_two_deliveries_of_one_batch_is_stored_once(world, page_channel):
    store(page_delivery(PAGE_ID, feed_change(comment_id="4001_1", message="Hello", post_id="4001"), time=1))
    store(page_delivery(PAGE_ID, feed_change(comment_id="4001_1", message="Hello", post_id="4001"), time=2))
    assert drain_deliveries() == 2
    assert Comment.objects.count() == CommentEvent.objects.count() == CommentVersion.objects.count() == 1
    assert "already recorded" in WebhookDelivery.objects.order_by("id").last().notes


def test_an_edit_and_a_removal_in_the_same_batch_follow_the_add(world, page_channel):
    store(page_delivery(PAGE_ID, feed_change(comment_id="4001_1", message="Hello", post_id="4001"), time=1))
    store(page_delivery(PAGE_ID, feed_change(comment_id="4001_1", verb="edited", message="Hello Amara Okafor",
                                             post_id="4001"), time=2))
    store(page_delivery(PAGE_ID, feed_change(comment_id="4001_2", message="Hi", post_id="4001"), time=3))
    store(page_delivery(PAGE_ID, feed_change(comment_id="4001_2", verb="remove", post_id="4001"), time=4))
    assert drain_deliveries() == 4
    edited = Comment.objects.get(external_id="4001_1")
    assert edited.text == "Hello Amara Okafor" and edited.state == CommentState.EDITED
    assert list(edited.versions.values_list("text", flat=True)) == ["Hello", "Hello Amara Okafor"]
    assert edited.moderation_item.hits.filter(category="child_named").exists()
    assert Comment.objects.get(external_id="4001_2").state == CommentState.REMOVED


def test_a_comment_already_stored_is_not_stored_again_by_a_later_batch(world, page_channel):
    store_comments(3)
    drain_deliveries()
    store(page_delivery(PAGE_ID, feed_change(comment_id="4001_0", message=TEXTS[0], post_id="4001"), time=99))
    assert drain_deliveries() == 1
    assert Comment.objects.count() == ModerationItem.objects.count() == RuleHit.objects.values("item").distinct()\
        .count() + ModerationItem.objects.filter(hits__isnull=True).count() == 3


def test_a_delivery_drained_twice_creates_nothing_twice(world, page_channel):
    store_comments(4)
    drain_deliveries()
    WebhookDelivery.objects.update(status=WebhookDelivery.Status.RECEIVED)
    assert drain_deliveries() == 4
    assert Comment.objects.count() == ModerationItem.objects.count() == CommentEvent.objects.count() == 4
    assert Notification.objects.filter(recipient=world.dsl).count() == 1


def test_deliveries_from_both_platforms_and_unknown_accounts_share_a_batch(world, page_channel, ig_channel):
    store_comments(2)
    store(instagram_delivery(IG_ID, instagram_change(comment_id="17858893269000001", text="dm me please")))
    store(page_delivery("999999", feed_change(comment_id="1_1", message="Hi", post_id="1")))
    store(page_delivery(PAGE_ID, feed_change(comment_id="4001_9", message="Thanks!", post_id="4001",
                                             author=(PAGE_ID, "Kids Count"))))
    assert drain_deliveries() == 5
    assert Comment.objects.count() == 3
    assert Comment.objects.get(platform="instagram").history.get().history_change_reason == \
        "Platform webhook (instagram)"
    notes = "\n".join(WebhookDelivery.objects.values_list("notes", flat=True))
    assert "unknown facebook account 999999" in notes and "page itself" in notes


@pytest.mark.parametrize("count", [5, 200])
def test_a_batch_costs_the_same_number_of_queries_at_5_and_200_comments(world, page_channel, count,
                                                                        django_assert_max_num_queries):
    store_comments(count)
    # SQLite splits an INSERT into statements of at most 999 parameters; PostgreSQL takes each in one.
    with django_assert_max_num_queries(30 if connection.vendor == "postgresql" else 60):
        assert drain_deliveries() == count
    assert ModerationItem.objects.count() == count
