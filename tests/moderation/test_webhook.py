"""The Meta webhook: handshake, signatures, real payload shapes, batches, duplicates and bad input."""

import hashlib
import hmac
import json

import pytest
from django.db import connection

from moderation import services
from moderation.models import Comment, CommentEvent, CommentState, ItemStatus, ModerationItem, WebhookDelivery
from moderation.services import drain_deliveries, process_delivery, resolve_item
from nursery.models import OutboxMessage
from posts.meta.webhooks import sign
from posts.models import Publication
from tests.moderation.conftest import IG_ID, PAGE_ID, SECRET, VERIFY_TOKEN
from tests.moderation.factories import (
    body,
    feed_change,
    instagram_change,
    instagram_delivery,
    page_delivery,
    published_post,
)

URL = "/webhooks/meta/"


def post(client, payload_bytes, *, signature="auto", **headers):
    if signature == "auto":
        signature = sign(payload_bytes, SECRET)
    if signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post(URL, data=payload_bytes, content_type="application/json", **headers)


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """Post a signed delivery, then drain as the worker does every few seconds."""

    def _deliver(payload):
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, body(payload))
        assert response.status_code == 200, response.content
        drain_deliveries()
        return response

    return _deliver


# --- handshake --------------------------------------------------------------------------------------------


def test_it_answers_the_handshake_with_the_challenge(client, db):
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    response = client.get(URL, params)
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
    {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    {"hub.mode": "subscribe", "hub.challenge": "1"},
    {},
])
def test_it_refuses_the_handshake_without_the_right_token(client, db, params):
    response = client.get(URL, params)
    assert response.status_code == 403
    assert b"1" not in response.content


def test_it_refuses_the_handshake_when_no_token_is_configured(client, db, settings):
    settings.META_VERIFY_TOKEN = ""
    assert client.get(URL, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}).status_code == 403


# --- signatures -------------------------------------------------------------------------------------------


def test_it_accepts_a_correct_signature_and_stores_the_raw_delivery(client, page_channel, deliver):
    payload = page_delivery(PAGE_ID, feed_change(comment_id="4001_1", message="Lovely!", post_id="4001"))
    deliver(payload)
    delivery = WebhookDelivery.objects.get()
    assert json.loads(delivery.body) == payload
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert Comment.objects.get().text == "Lovely!"


@pytest.mark.parametrize("signature", [
    "sha256=" + "0" * 64, "sha256=", "sha256=nothex", "md5=abc", sign(b"another body", SECRET),
    sign(b"x", "wrong-secret"), None,
])
def test_it_refuses_a_wrong_or_missing_signature_and_stores_nothing(client, page_channel, signature):
    raw = body(page_delivery(PAGE_ID, feed_change(comment_id="4001_1", message="Hi", post_id="4001")))
    assert post(client, raw, signature=signature).status_code == 403
    assert not WebhookDelivery.objects.exists()
    assert not Comment.objects.exists()


def test_it_refuses_the_legacy_sha1_signature_alone(client, page_channel):
    raw = body(page_delivery(PAGE_ID, feed_change(comment_id="4001_1", message="Hi", post_id="4001")))
    legacy = "sha1=" + hmac.new(SECRET.encode(), raw, hashlib.sha1).hexdigest()
    assert post(client, raw, signature=None, HTTP_X_HUB_SIGNATURE=legacy).status_code == 403
    assert not WebhookDelivery.objects.exists()


def test_it_refuses_every_delivery_when_no_secret_is_configured(client, page_channel, settings):
    settings.META_APP_SECRET = ""
    raw = body(page_delivery(PAGE_ID))
    assert post(client, raw, signature=sign(raw, "")).status_code == 403
    assert not WebhookDelivery.objects.exists()


# --- bad input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe{}", json.dumps("a string").encode(), b"[1, 2]"])
def test_it_refuses_malformed_json_with_400_and_stores_nothing(client, db, raw):
    assert post(client, raw).status_code == 400
    assert not WebhookDelivery.objects.exists()


def test_it_refuses_a_body_over_one_megabyte_with_413(client, db):
    raw = body({"object": "page", "entry": [], "padding": "x" * (1024 * 1024)})
    assert post(client, raw).status_code == 413
    assert not WebhookDelivery.objects.exists()


def test_it_refuses_other_methods(client, db):
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


def test_it_does_not_need_a_csrf_token(page_channel, deliver, settings):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    raw = body(page_delivery(PAGE_ID, feed_change(comment_id="4001_9", message="ok", post_id="4001")))
    assert post(csrf_client, raw).status_code == 200


def test_unicode_escapes_and_html_are_stored_safely(page_channel, deliver):
    text = "<script>alert('x')</script> caf\u00e9 \ud83d\ude00 broken \ud800 nul \u0000 end"
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_2", message=text, post_id="4001")))
    stored = Comment.objects.get().text
    assert stored.startswith("<script>alert('x')</script> café 😀 broken ")
    assert "\x00" not in stored and "\ud800" not in stored


# --- Facebook comments ------------------------------------------------------------------------------------


def test_a_new_facebook_comment_is_stored_linked_to_our_post_and_screened(world, page_channel, deliver):
    post_obj = published_post(world, page_channel, external_id=f"{PAGE_ID}_4001")
    deliver(page_delivery(PAGE_ID, feed_change(
        comment_id="4001_77", message="Amara Okafor was brilliant", post_id=f"{PAGE_ID}_4001",
        author=("555", "Sam Reed"), created_time=1764064800,
    )))
    comment = Comment.objects.get()
    assert (comment.platform, comment.external_id, comment.author_name, comment.author_external_id) == (
        "facebook", "4001_77", "Sam Reed", "555")
    assert comment.post == post_obj
    assert comment.nursery == world.nursery
    assert comment.created_on_platform.timestamp() == 1764064800
    item = comment.moderation_item
    assert item.status == ItemStatus.PENDING
    assert {h.category for h in item.hits.all()} == {"child_named"}


def test_an_edit_keeps_every_version_and_reopens_a_resolved_item(world, page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_3", message="Great day", post_id="4001")))
    item = ModerationItem.objects.get()
    resolve_item(world.dsl, item_id=item.pk, action="no_concern", reason="Friendly")
    edited = "Great day, call me on 07700 900456"
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_3", verb="edited", message=edited, post_id="4001"),
                          time=1764065000))
    comment = Comment.objects.get()
    assert [v.text for v in comment.versions.all()] == ["Great day", "Great day, call me on 07700 900456"]
    assert comment.state == CommentState.EDITED
    item.refresh_from_db()
    assert item.status == ItemStatus.REOPENED
    assert item.round == 2
    assert {h.category for h in item.hits.all()} == {"personal_data", "private_contact"}
    assert [a.kind for a in item.actions.all()] == ["opened", "resolved", "reopened"]


@pytest.mark.parametrize("verb, state", [("hide", CommentState.HIDDEN), ("remove", CommentState.REMOVED)])
def test_hide_and_remove_change_the_platform_state_and_keep_the_text(page_channel, deliver, verb, state):
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_4", message="Mean words", post_id="4001")))
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_4", verb=verb, post_id="4001"), time=1764065100))
    comment = Comment.objects.get()
    assert comment.state == state
    assert comment.text == "Mean words"
    assert comment.moderation_item.actions.last().kind == "platform_state"


def test_unhide_makes_a_hidden_comment_visible_again(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_5", message="Hmm", post_id="4001")))
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_5", verb="hide", post_id="4001"), time=1764065100))
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_5", verb="unhide", post_id="4001"), time=1764065200))
    assert Comment.objects.get().state == CommentState.VISIBLE
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_5", verb="hide", post_id="4001"), time=1764065300))
    assert Comment.objects.get().state == CommentState.HIDDEN


def test_a_reply_keeps_its_parent_comment(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_6", message="Thanks!", post_id="4001",
                                               parent_id="4001_5")))
    comment = Comment.objects.get()
    assert (comment.external_post_id, comment.external_parent_id) == ("4001", "4001_5")


def test_a_batch_of_entries_and_changes_is_handled_whole(world, page_channel, ig_channel, deliver):
    payload = page_delivery(PAGE_ID, *[feed_change(comment_id=f"4001_{n}", message=f"Comment {n}", post_id="4001")
                                       for n in range(10, 15)])
    payload["entry"].append({"id": PAGE_ID, "time": 1764064900, "changes": [
        feed_change(comment_id="4001_20", message="Another entry", post_id="4001"),
        {"field": "feed", "value": {"item": "reaction", "verb": "add", "reaction_type": "like", "post_id": "4001",
                                    "from": {"id": "1", "name": "x"}}},
        {"field": "feed", "value": {"item": "status", "verb": "add", "post_id": "4002", "message": "A new post",
                                    "from": {"id": PAGE_ID, "name": "Kids Count"}}},
    ]})
    deliver(payload)
    assert Comment.objects.count() == 6
    assert ModerationItem.objects.count() == 6
    notes = WebhookDelivery.objects.get().notes
    assert "reaction" in notes and "post 4002: written by the page itself" in notes


def test_the_same_delivery_twice_is_stored_once_and_changes_nothing(page_channel, deliver):
    payload = page_delivery(PAGE_ID, feed_change(comment_id="4001_30", message="Hello", post_id="4001"))
    deliver(payload)
    deliver(payload)
    assert WebhookDelivery.objects.count() == 1
    assert Comment.objects.count() == 1
    assert ModerationItem.objects.get().actions.count() == 1


def test_the_same_comment_in_a_different_delivery_is_stored_once(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_31", message="Hello", post_id="4001"), time=1))
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_31", message="Hello", post_id="4001"), time=2))
    assert WebhookDelivery.objects.count() == 2
    assert Comment.objects.count() == 1
    assert CommentEvent.objects.count() == 1
    assert Comment.objects.get().versions.count() == 1


def test_processing_a_delivery_twice_changes_nothing(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_32", message="Hi", post_id="4001")))
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.RECEIVED)
    assert process_delivery(delivery_id=delivery.pk) == 0
    assert Comment.objects.count() == 1 and CommentEvent.objects.count() == 1


def test_comments_by_the_page_itself_are_ignored(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_change(comment_id="4001_33", message="Thanks everyone!", post_id="4001",
                                               author=(PAGE_ID, "Kids Count"))))
    assert not Comment.objects.exists()
    assert "page itself" in WebhookDelivery.objects.get().notes


def test_an_unknown_page_is_logged_and_acknowledged(db, deliver, caplog):
    response = deliver(page_delivery("999999", feed_change(comment_id="1_1", message="Hi", post_id="1")))
    assert response.content == b"EVENT_RECEIVED"
    assert not Comment.objects.exists()
    assert "unknown facebook account 999999" in WebhookDelivery.objects.get().notes
    assert "unknown" in caplog.text


def test_the_request_only_stores_the_delivery_in_one_statement_and_queues_no_task(
    client, page_channel, django_capture_on_commit_callbacks, django_assert_num_queries
):
    raw = body(page_delivery(PAGE_ID, feed_change(comment_id="4001_40", message="Hi", post_id="4001")))
    with django_capture_on_commit_callbacks(execute=False) as callbacks, django_assert_num_queries(2) as queries:
        assert post(client, raw).status_code == 200
        assert post(client, raw).status_code == 200, "Meta's retry of the same body is acknowledged too"
    assert all("ON CONFLICT (body_sha256) DO NOTHING" in q["sql"] for q in queries.captured_queries)
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.RECEIVED
    assert not Comment.objects.exists() and not OutboxMessage.objects.exists() and not callbacks
    assert drain_deliveries() == 1
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.PROCESSED
    assert Comment.objects.count() == 1


def test_the_webhook_is_answered_without_the_middleware_that_serves_people(
    client, world, page_channel, django_assert_num_queries
):
    client.force_login(world.leader)  # a session cookie, which Meta never sends, is not even read
    raw = body(page_delivery(PAGE_ID, feed_change(comment_id="4001_42", message="Hi", post_id="4001")))
    with django_assert_num_queries(1):
        response = post(client, raw)
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert client.get("/moderation/").status_code == 200, "every other page still reads the session"


@pytest.mark.parametrize("synchronous", [False, True])
def test_on_postgresql_only_the_setting_makes_the_delivery_wait_for_the_disk(
    client, page_channel, settings, synchronous, django_assert_num_queries
):
    settings.WEBHOOK_SYNCHRONOUS_COMMIT = synchronous
    raw = body(page_delivery(PAGE_ID, feed_change(comment_id="4001_41", message="Hi", post_id="4001")))
    with django_assert_num_queries(1) as queries:
        assert post(client, raw).status_code == 200
    asynchronous = "set_config('synchronous_commit', 'off', true)" in queries.captured_queries[0]["sql"]
    assert asynchronous == (connection.vendor == "postgresql" and not synchronous)
    assert WebhookDelivery.objects.get().body == raw.decode()


def test_a_drain_takes_every_received_delivery_in_order_and_survives_one_that_fails(
    page_channel, client, monkeypatch, caplog
):
    for n in range(3):
        post(client, body(page_delivery(PAGE_ID, feed_change(comment_id=f"4001_5{n}", message="Hi", post_id="4001"))))
    first, second, third = WebhookDelivery.objects.order_by("received_at", "id")
    real = services._read_delivery

    def flaky(delivery):
        if delivery.pk == second.pk:
            raise RuntimeError("database hiccup")
        return real(delivery)

    monkeypatch.setattr(services, "_read_delivery", flaky)
    assert drain_deliveries() == 2, "the batch fails, then each delivery is processed on its own"
    assert "next drain tries again" in caplog.text
    assert WebhookDelivery.objects.get(pk=second.pk).status == WebhookDelivery.Status.RECEIVED
    monkeypatch.setattr(services, "_read_delivery", real)
    assert drain_deliveries() == 1 and drain_deliveries() == 0
    assert Comment.objects.count() == 3


# --- Instagram comments -----------------------------------------------------------------------------------


def test_a_new_instagram_comment_is_stored_and_screened(world, ig_channel, deliver):
    deliver(instagram_delivery(IG_ID, instagram_change(comment_id="17858893269000001",
                                                       text="dm me the photos please")))
    comment = Comment.objects.get()
    assert (comment.platform, comment.channel, comment.author_name, comment.external_post_id) == (
        "instagram", ig_channel, "jo.parker", "17900000000000001")
    assert {h.category for h in comment.moderation_item.hits.all()} == {"private_contact"}


def test_an_instagram_reply_and_a_batch_and_a_duplicate(ig_channel, deliver):
    payload = instagram_delivery(IG_ID, instagram_change(comment_id="1785001", text="First"),
                                 instagram_change(comment_id="1785002", text="Reply", parent_id="1785001"))
    deliver(payload)
    deliver(payload)
    assert Comment.objects.count() == 2
    assert Comment.objects.get(external_id="1785002").external_parent_id == "1785001"


def test_instagram_comments_by_the_account_itself_are_ignored(ig_channel, deliver):
    deliver(instagram_delivery(IG_ID, instagram_change(comment_id="1785003", text="Thank you!",
                                                       author=(IG_ID, "kidscountnursery"))))
    assert not Comment.objects.exists()


def test_instagram_entries_with_the_field_on_the_entry_are_read_too(ig_channel, deliver):
    change = instagram_change(comment_id="1785004", text="Gorgeous")
    deliver({"object": "instagram", "entry": [{"id": IG_ID, "time": 1764064801, **change}]})
    assert Comment.objects.get().text == "Gorgeous"


def test_other_instagram_fields_are_ignored(ig_channel, deliver):
    deliver(instagram_delivery(IG_ID, {"field": "mentions", "value": {"media_id": "1", "comment_id": "2"}}))
    assert not Comment.objects.exists()


def test_publications_by_their_short_id_also_link(world, ig_channel, deliver):
    post_obj = published_post(world, ig_channel, external_id="17900000000000001")
    deliver(instagram_delivery(IG_ID, instagram_change(comment_id="1785005", text="Cute")))
    assert Comment.objects.get().post == post_obj
    assert Publication.objects.count() == 1
