"""Sending approved posts to Facebook and Instagram: each call, the ids kept, retries, tokens, and never twice."""

import json
import logging
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from consent.models import Scope
from consent.services import withdraw_consent
from nursery.errors import ServiceError
from nursery.models import Notification, OutboxMessage
from posts.meta import publishing as meta_publishing
from posts.meta.connections import connect_channel
from posts.meta.models import ChannelConnection, ConnectionStatus, DeliveryState, GraphDelivery
from posts.meta.publishing import MAX_ATTEMPTS, backoff_seconds, queue_delivery
from posts.models import Publication
from posts.signed_media import image_for_token
from tests.factories import grant
from tests.posts.graph.fake_graph import IG_USER, PAGE, TOKEN, graph_error, path
from tests.posts.graph.media import photo_post


@pytest.fixture
def send(django_capture_on_commit_callbacks, drain_outbox):
    """Queue a delivery as the publishing service does, and let the worker run it after commit (and its
    retries when the outbox's dispatcher finds them due)."""

    def send(user, post, channel):
        with django_capture_on_commit_callbacks(execute=True):
            delivery = queue_delivery(user, post=post, channel=channel)
        drain_outbox()
        delivery.refresh_from_db()
        return delivery

    return send


@pytest.fixture
def concert(world):
    grant(world.child, Scope.PUBLIC)
    return photo_post(world, children=[world.child], photos=2, caption="Our Christmas concert")


def requests_to(graph, url_path, method="POST"):
    return [request for request, _ in graph.log if request.path == url_path and request.method == method]


def leadership_notices(world):
    return Notification.objects.filter(recipient=world.leader).order_by("pk")


def answer_facebook_photo_post(graph, post_id=f"{PAGE}_777"):
    graph.expect_oneshot_request(path(PAGE, "photos"), method="POST").respond_with_json({"id": "9001"})
    graph.expect_oneshot_request(path(PAGE, "photos"), method="POST").respond_with_json({"id": "9002"})
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": post_id})
    graph.expect_oneshot_request(path(post_id), method="GET").respond_with_json(
        {"permalink_url": f"https://www.facebook.com/{post_id}", "id": post_id}
    )


# --- Facebook ---


def test_a_photo_post_uploads_each_photo_unpublished_then_posts_them_together(graph, world, facebook_page, concert,
                                                                              send):
    answer_facebook_photo_post(graph)
    delivery = send(world.leader, concert, facebook_page)

    assert delivery.state == DeliveryState.PUBLISHED
    first, second = concert.images.order_by("position")
    assert delivery.media_ids == {str(first.pk): "9001", str(second.pk): "9002"}
    assert delivery.external_id == f"{PAGE}_777"
    assert delivery.permalink == f"https://www.facebook.com/{PAGE}_777"
    uploads = requests_to(graph, path(PAGE, "photos"))
    assert [u.form["published"] for u in uploads] == ["false", "false"]
    assert [u.form["alt_text_custom"] for u in uploads] == [first.alt_text, second.alt_text]
    assert uploads[0].files["source"].read() == first.image.open("rb").read()
    (feed,) = requests_to(graph, path(PAGE, "feed"))
    assert feed.form["message"] == "Our Christmas concert"
    assert [json.loads(feed.form[f"attached_media[{i}]"]) for i in (0, 1)] == [{"media_fbid": "9001"},
                                                                                {"media_fbid": "9002"}]
    publication = Publication.objects.get(post=concert, channel=facebook_page)
    assert (publication.external_id, publication.url) == (f"{PAGE}_777", f"https://www.facebook.com/{PAGE}_777")
    assert publication.published_by == world.leader
    # every id was written down as it came back, each in the audit trail under the leader's name
    recorded = [h for h in delivery.history.order_by("history_id") if h.history_user_id == world.leader.pk]
    assert [h.media_ids for h in recorded if h.history_change_reason == "Photo uploaded, not yet published"] == [
        {str(first.pk): "9001"}, {str(first.pk): "9001", str(second.pk): "9002"}]


def test_a_text_post_goes_straight_to_the_feed(graph, world, facebook_page, send):
    post = photo_post(world, photos=0, caption="Nursery closes at 3pm on Friday")
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": f"{PAGE}_1"})
    graph.expect_oneshot_request(path(f"{PAGE}_1"), method="GET").respond_with_json({"permalink_url": "https://fb/1"})
    delivery = send(world.leader, post, facebook_page)
    assert delivery.state == DeliveryState.PUBLISHED
    (feed,) = requests_to(graph, path(PAGE, "feed"))
    assert feed.form.to_dict() == {"message": "Nursery closes at 3pm on Friday"}
    assert not requests_to(graph, path(PAGE, "photos"))


def test_a_missing_permalink_does_not_undo_a_publication(graph, world, facebook_page, send):
    post = photo_post(world, photos=0, caption="Hello")
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": f"{PAGE}_1"})
    graph.expect_oneshot_request(path(f"{PAGE}_1"), method="GET").respond_with_json(graph_error(2), status=500)
    delivery = send(world.leader, post, facebook_page)
    assert delivery.state == DeliveryState.PUBLISHED and delivery.permalink == ""


# --- Instagram ---


def test_one_photo_becomes_one_container_then_is_published(graph, world, instagram_account, send):
    grant(world.child, Scope.PUBLIC)
    post = photo_post(world, children=[world.child], caption="Sports day!")
    graph.expect_oneshot_request(path(IG_USER, "media"), method="POST").respond_with_json({"id": "c1"})
    graph.expect_oneshot_request(path("c1"), method="GET").respond_with_json({"status_code": "FINISHED"})
    graph.expect_oneshot_request(path(IG_USER, "media_publish"), method="POST").respond_with_json({"id": "m1"})
    graph.expect_oneshot_request(path("m1"), method="GET").respond_with_json({"permalink": "https://ig/p/m1"})

    delivery = send(world.leader, post, instagram_account)

    assert (delivery.state, delivery.container_id, delivery.external_id, delivery.permalink) == (
        DeliveryState.PUBLISHED, "c1", "m1", "https://ig/p/m1")
    (container,) = requests_to(graph, path(IG_USER, "media"))
    image = post.images.get()
    assert container.form["caption"] == "Sports day!" and container.form["alt_text"] == image.alt_text
    prefix = "https://safe.example.org/m/"
    assert container.form["image_url"].startswith(prefix)
    assert image_for_token(container.form["image_url"].removeprefix(prefix).strip("/")) == image
    (publish,) = requests_to(graph, path(IG_USER, "media_publish"))
    assert publish.form.to_dict() == {"creation_id": "c1"}


def test_several_photos_become_a_carousel(graph, world, instagram_account, concert, send):
    for child_id in ("i1", "i2"):
        graph.expect_oneshot_request(path(IG_USER, "media"), method="POST").respond_with_json({"id": child_id})
    for child_id in ("i1", "i2"):
        graph.expect_oneshot_request(path(child_id), method="GET").respond_with_json({"status_code": "FINISHED"})
    graph.expect_oneshot_request(path(IG_USER, "media"), method="POST").respond_with_json({"id": "carousel"})
    graph.expect_oneshot_request(path("carousel"), method="GET").respond_with_json({"status_code": "FINISHED"})
    graph.expect_oneshot_request(path(IG_USER, "media_publish"), method="POST").respond_with_json({"id": "m2"})
    graph.expect_oneshot_request(path("m2"), method="GET").respond_with_json({"permalink": "https://ig/p/m2"})

    delivery = send(world.leader, concert, instagram_account)

    assert delivery.state == DeliveryState.PUBLISHED
    items, carousel = requests_to(graph, path(IG_USER, "media"))[:2], requests_to(graph, path(IG_USER, "media"))[2]
    assert all(item.form["is_carousel_item"] == "true" and "caption" not in item.form for item in items)
    assert carousel.form.to_dict() == {"media_type": "CAROUSEL", "children": "i1,i2",
                                       "caption": "Our Christmas concert"}
    first, second = concert.images.order_by("position")
    assert delivery.media_ids == {str(first.pk): "i1", str(second.pk): "i2"}
    assert requests_to(graph, path(IG_USER, "media_publish"))[0].form["creation_id"] == "carousel"


def test_instagram_refuses_a_post_without_a_photo_before_anything_is_queued(world, instagram_account):
    post = photo_post(world, photos=0, caption="Words only")
    with pytest.raises(ServiceError, match="at least one photo"):
        queue_delivery(world.leader, post=post, channel=instagram_account)
    assert not GraphDelivery.objects.exists()


# --- retries ---


def test_throttling_is_retried_with_growing_waits_until_it_goes_through(graph, world, facebook_page, send):
    post = photo_post(world, photos=0, caption="Hello")
    for _ in range(2):
        graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json(
            graph_error(613, "Calls to this api have exceeded the rate limit."), status=400)
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": f"{PAGE}_9"})
    graph.expect_oneshot_request(path(f"{PAGE}_9"), method="GET").respond_with_json({"permalink_url": "https://fb/9"})

    delivery = send(world.leader, post, facebook_page)

    assert (delivery.state, delivery.attempts, delivery.external_id) == (DeliveryState.PUBLISHED, 3, f"{PAGE}_9")
    waits = [
        (h.next_attempt_at - h.history_date).total_seconds()
        for h in delivery.history.order_by("history_id") if h.state == DeliveryState.RETRYING
    ]
    # The history row is stamped a moment after the wait is computed: on a busy machine, most of a second.
    assert [backoff_seconds(1), backoff_seconds(2)] == [30, 60]
    assert len(waits) == 2
    assert all(expected - 2 <= wait <= expected for wait, expected in zip(waits, [30, 60], strict=True))
    assert delivery.error_message == ""
    assert not leadership_notices(world).exists()


def test_the_backoff_doubles_and_is_capped():
    assert [backoff_seconds(n) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1800, 1800, 1800]


def test_retries_stop_at_the_cap_and_leadership_is_told_in_plain_words(graph, world, facebook_page, send):
    post = photo_post(world, photos=0, caption="Hello")
    graph.expect_request(path(PAGE, "feed"), method="POST").respond_with_json(
        graph_error(4, "Application request limit reached", trace="TR4"), status=400)

    delivery = send(world.leader, post, facebook_page)

    assert len(requests_to(graph, path(PAGE, "feed"))) == MAX_ATTEMPTS
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, MAX_ATTEMPTS)
    assert delivery.error["code"] == 4 and delivery.error["fbtrace_id"] == "TR4"
    assert f"We tried {MAX_ATTEMPTS} times and have stopped." in delivery.error_message
    notice = leadership_notices(world).get()
    assert notice.subject.startswith("Not published on Public Facebook Page")
    assert "limiting how often we can post" in notice.body
    assert not Publication.objects.exists()


def test_a_permanent_refusal_is_not_retried(graph, world, facebook_page, send):
    post = photo_post(world, photos=0, caption="Hello")
    graph.expect_request(path(PAGE, "feed"), method="POST").respond_with_json(
        graph_error(100, "Invalid parameter", kind="GraphMethodException"), status=400)
    delivery = send(world.leader, post, facebook_page)
    assert len(requests_to(graph, path(PAGE, "feed"))) == 1
    assert delivery.state == DeliveryState.FAILED
    assert delivery.error["body"] == graph_error(100, "Invalid parameter", kind="GraphMethodException")
    assert "refused this and it will not be retried" in delivery.error_message


def test_photos_uploaded_before_a_failure_are_not_uploaded_again(graph, world, facebook_page, concert, send):
    graph.expect_oneshot_request(path(PAGE, "photos"), method="POST").respond_with_json({"id": "9001"})
    graph.expect_oneshot_request(path(PAGE, "photos"), method="POST").respond_with_json(graph_error(2), status=500)
    graph.expect_oneshot_request(path(PAGE, "photos"), method="POST").respond_with_json({"id": "9002"})
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": f"{PAGE}_5"})
    graph.expect_oneshot_request(path(f"{PAGE}_5"), method="GET").respond_with_json({"permalink_url": "https://fb/5"})

    delivery = send(world.leader, concert, facebook_page)

    assert delivery.state == DeliveryState.PUBLISHED
    assert len(requests_to(graph, path(PAGE, "photos"))) == 3  # the first photo went once, the second twice
    assert sorted(delivery.media_ids.values()) == ["9001", "9002"]


# --- the token ---


def test_an_expired_token_stops_at_once_and_asks_leadership_to_reconnect(graph, world, facebook_page, send):
    post = photo_post(world, photos=0, caption="Hello")
    graph.expect_request(path(PAGE, "feed"), method="POST").respond_with_json(
        graph_error(190, "Error validating access token: The session has been invalidated", subcode=460), status=400)

    delivery = send(world.leader, post, facebook_page)

    assert len(requests_to(graph, path(PAGE, "feed"))) == 1
    assert delivery.state == DeliveryState.RECONNECT
    connection = ChannelConnection.objects.get(channel=facebook_page)
    assert connection.status == ConnectionStatus.RECONNECT
    assert "reconnect the channel" in connection.problem
    notice = leadership_notices(world).get()
    assert notice.subject.startswith("Reconnect Public Facebook Page")
    assert "reconnect the channel" in notice.body
    other = photo_post(world, photos=0, caption="Another")
    with pytest.raises(ServiceError, match="needs reconnecting"):
        queue_delivery(world.leader, post=other, channel=facebook_page)


def test_reconnecting_sends_what_was_held(graph, world, facebook_page, send, django_capture_on_commit_callbacks):
    post = photo_post(world, photos=0, caption="Hello")
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json(graph_error(190), status=400)
    send(world.leader, post, facebook_page)
    graph.expect_oneshot_request(path(PAGE), method="GET").respond_with_json({"id": PAGE, "name": "Kids Count"})
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": f"{PAGE}_2"})
    graph.expect_oneshot_request(path(f"{PAGE}_2"), method="GET").respond_with_json({"permalink_url": "https://fb/2"})

    with django_capture_on_commit_callbacks(execute=True):
        connect_channel(world.deputy, channel=facebook_page, access_token="EAAGnewTOKEN")

    delivery = GraphDelivery.objects.get()
    assert (delivery.state, delivery.external_id) == (DeliveryState.PUBLISHED, f"{PAGE}_2")
    assert requests_to(graph, path(PAGE, "feed"))[-1].headers["Authorization"] == "Bearer EAAGnewTOKEN"


def test_no_token_reaches_the_logs_or_the_records(graph, world, facebook_page, concert, send, caplog):
    graph.expect_request(path(PAGE, "photos"), method="POST").respond_with_json(graph_error(190), status=400)
    with caplog.at_level(logging.DEBUG):
        delivery = send(world.leader, concert, facebook_page)
    assert delivery.state == DeliveryState.RECONNECT
    assert caplog.records and TOKEN not in caplog.text
    assert TOKEN not in json.dumps([delivery.error, delivery.error_message])
    assert all(TOKEN not in n.body for n in Notification.objects.all())
    connection = ChannelConnection.objects.get()
    assert "access_token" not in {f.name for f in connection.history.model._meta.fields}
    raw = ChannelConnection.objects.filter(pk=connection.pk).values_list("access_token", flat=True).get()
    assert raw.reveal() == TOKEN
    from django.db import connection as db

    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM posts_channelconnection")
        assert TOKEN not in cursor.fetchone()[0]


# --- consent ---


def test_consent_withdrawn_while_waiting_means_nothing_is_sent(graph, world, facebook_page, concert,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        queue_delivery(world.leader, post=concert, channel=facebook_page)
    withdraw_consent(world.parent, child=world.child, scope=Scope.PUBLIC)
    for callback in callbacks:
        callback()

    assert not graph.log
    delivery = GraphDelivery.objects.get()
    assert delivery.state == DeliveryState.CANCELLED
    assert "no longer in place for Amara" in delivery.error_message
    notice = leadership_notices(world).last()
    assert notice.subject.startswith("Not sent to Public Facebook Page") and "Amara" in notice.body
    assert not Publication.objects.exists()


def test_consent_withdrawn_between_the_photos_and_the_post_stops_the_post(graph, world, facebook_page, concert,
                                                                          send):
    graph.expect_request(path(PAGE, "photos"), method="POST").respond_with_json({"id": "9001"})
    real_begin = meta_publishing._begin_publish

    def begin_after_withdrawal(delivery, now):
        withdraw_consent(world.parent, child=world.child, scope=Scope.PUBLIC)
        return real_begin(delivery, now)

    with mock.patch.object(meta_publishing, "_begin_publish", begin_after_withdrawal):
        delivery = send(world.leader, concert, facebook_page)

    assert delivery.state == DeliveryState.CANCELLED
    assert not requests_to(graph, path(PAGE, "feed"))


# --- never twice ---


class Crash(BaseException):
    """The worker dies between the platform's answer and our save (no exception handler runs)."""


def crash_when_saving(field):
    real_save = meta_publishing._save

    def save(delivery, reason, **fields):
        if field in fields and fields[field]:
            raise Crash
        return real_save(delivery, reason, **fields)

    return mock.patch.object(meta_publishing, "_save", save)


def test_a_crash_after_posting_to_facebook_does_not_post_twice(graph, world, facebook_page):
    post = photo_post(world, photos=0, caption="Hello families")
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": f"{PAGE}_42"})
    delivery = queue_delivery(world.leader, post=post, channel=facebook_page)
    with crash_when_saving("external_id"), pytest.raises(Crash):
        meta_publishing.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENDING and delivery.publish_started_at and not delivery.external_id

    # the redelivered task is turned away while the dead worker's lease runs; the sweep restarts it after
    assert meta_publishing.deliver(delivery.pk).state == DeliveryState.SENDING
    graph.expect_oneshot_request(path(PAGE, "feed"), method="GET").respond_with_json({"data": [
        {"id": f"{PAGE}_41", "message": "Something else", "created_time": "2026-11-25T09:00:00+0000"},
        {"id": f"{PAGE}_42", "message": "Hello families", "created_time": "2026-11-25T09:00:01+0000"},
    ]})
    graph.expect_oneshot_request(path(f"{PAGE}_42"), method="GET").respond_with_json({"permalink_url": "https://fb/42"})
    outcome = meta_publishing.deliver(delivery.pk, now=timezone.now() + meta_publishing.LEASE)

    delivery.refresh_from_db()
    assert outcome.state == DeliveryState.PUBLISHED
    assert delivery.external_id == f"{PAGE}_42"
    assert len(requests_to(graph, path(PAGE, "feed"))) == 1
    since = int(requests_to(graph, path(PAGE, "feed"), method="GET")[0].args["since"])
    assert since <= delivery.publish_started_at.timestamp()


def test_a_crash_before_the_post_was_made_posts_once_on_retry(graph, world, facebook_page):
    post = photo_post(world, photos=0, caption="Hello families")
    delivery = queue_delivery(world.leader, post=post, channel=facebook_page)
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json(graph_error(2), status=500)
    meta_publishing.deliver(delivery.pk)  # the call failed: nothing was posted
    graph.expect_oneshot_request(path(PAGE, "feed"), method="GET").respond_with_json({"data": []})
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": f"{PAGE}_43"})
    graph.expect_oneshot_request(path(f"{PAGE}_43"), method="GET").respond_with_json({"permalink_url": "https://fb/4"})
    assert meta_publishing.deliver(delivery.pk).state == DeliveryState.PUBLISHED
    assert len(requests_to(graph, path(PAGE, "feed"))) == 2


def test_a_crash_after_publishing_on_instagram_does_not_publish_twice(graph, world, instagram_account):
    post = photo_post(world, caption="Graduation day")
    graph.expect_oneshot_request(path(IG_USER, "media"), method="POST").respond_with_json({"id": "c7"})
    graph.expect_oneshot_request(path("c7"), method="GET").respond_with_json({"status_code": "FINISHED"})
    graph.expect_oneshot_request(path(IG_USER, "media_publish"), method="POST").respond_with_json({"id": "m7"})
    delivery = queue_delivery(world.leader, post=post, channel=instagram_account)
    with crash_when_saving("external_id"), pytest.raises(Crash):
        meta_publishing.deliver(delivery.pk)

    graph.expect_oneshot_request(path("c7"), method="GET").respond_with_json({"status_code": "PUBLISHED"})
    graph.expect_oneshot_request(path(IG_USER, "media"), method="GET").respond_with_json({"data": [
        {"id": "m7", "caption": "Graduation day", "timestamp": timezone.now().strftime("%Y-%m-%dT%H:%M:%S+0000")},
    ]})
    graph.expect_oneshot_request(path("m7"), method="GET").respond_with_json({"permalink": "https://ig/p/m7"})
    outcome = meta_publishing.deliver(delivery.pk, now=timezone.now() + meta_publishing.LEASE)

    delivery.refresh_from_db()
    assert (outcome.state, delivery.external_id) == (DeliveryState.PUBLISHED, "m7")
    assert len(requests_to(graph, path(IG_USER, "media_publish"))) == 1
    assert len(requests_to(graph, path(IG_USER, "media"))) == 1  # the container was not made again


def test_a_post_made_before_a_crash_is_deleted_when_consent_went_meanwhile(graph, world, facebook_page, concert):
    graph.expect_request(path(PAGE, "photos"), method="POST").respond_with_json({"id": "p"})
    graph.expect_oneshot_request(path(PAGE, "feed"), method="POST").respond_with_json({"id": f"{PAGE}_50"})
    delivery = queue_delivery(world.leader, post=concert, channel=facebook_page)
    with crash_when_saving("external_id"), pytest.raises(Crash):
        meta_publishing.deliver(delivery.pk)
    withdraw_consent(world.parent, child=world.child, scope=Scope.PUBLIC)
    graph.expect_oneshot_request(path(PAGE, "feed"), method="GET").respond_with_json({"data": [
        {"id": f"{PAGE}_50", "message": "Our Christmas concert", "created_time": "2026-11-25T09:00:00+0000"}]})
    graph.expect_oneshot_request(path(f"{PAGE}_50"), method="DELETE").respond_with_json({"success": True})

    outcome = meta_publishing.deliver(delivery.pk, now=timezone.now() + meta_publishing.LEASE)

    delivery.refresh_from_db()
    assert outcome.state == DeliveryState.CANCELLED
    assert requests_to(graph, path(f"{PAGE}_50"), method="DELETE")
    assert "has now been deleted from Facebook" in delivery.error_message


def test_a_second_worker_does_nothing_while_the_first_holds_the_delivery(graph, world, facebook_page):
    post = photo_post(world, photos=0, caption="Hello")
    delivery = queue_delivery(world.leader, post=post, channel=facebook_page)
    GraphDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.SENDING,
                                                        lease_until=timezone.now() + timedelta(minutes=4))
    assert meta_publishing.deliver(delivery.pk).state == DeliveryState.SENDING
    assert not graph.log


def test_the_sweep_restarts_due_retries_and_abandoned_deliveries(world, facebook_page):
    now = timezone.now()
    posts = [photo_post(world, photos=0, caption=f"Post {n}") for n in range(4)]
    states = [
        (DeliveryState.RETRYING, {"next_attempt_at": now - timedelta(seconds=1)}),
        (DeliveryState.RETRYING, {"next_attempt_at": now + timedelta(minutes=5)}),
        (DeliveryState.SENDING, {"lease_until": now - timedelta(seconds=1)}),
        (DeliveryState.SENDING, {"lease_until": now + timedelta(minutes=5)}),
    ]
    deliveries = [
        GraphDelivery.objects.create(post=post, channel=facebook_page, requested_by=world.leader, requested_at=now,
                                     state=state, **fields)
        for post, (state, fields) in zip(posts, states, strict=True)
    ]
    assert meta_publishing.sweep_due(now=now) == 2
    restarted = OutboxMessage.objects.filter(task_name="posts.graph_tasks.deliver_to_platform")
    assert sorted(message.args[0] for message in restarted) == sorted([deliveries[0].pk, deliveries[2].pk])


def test_an_unexpected_error_is_retried_then_stops_at_the_cap(graph, world, facebook_page, concert, send, caplog):
    with mock.patch.object(meta_publishing, "_deliver_to_facebook", side_effect=OSError("disk unreadable")):
        delivery = send(world.leader, concert, facebook_page)
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, MAX_ATTEMPTS)
    assert "Something went wrong on our side" in delivery.error_message
    assert "disk unreadable" in caplog.text


def test_a_delivery_whose_workers_keep_dying_is_stopped(graph, world, facebook_page):
    post = photo_post(world, photos=0)
    delivery = GraphDelivery.objects.create(post=post, channel=facebook_page, requested_by=world.leader,
                                            requested_at=timezone.now(), state=DeliveryState.SENDING,
                                            attempts=MAX_ATTEMPTS, lease_until=timezone.now())
    assert meta_publishing.deliver(delivery.pk).state == DeliveryState.FAILED
    assert "interrupted too many times" in GraphDelivery.objects.get().error_message
    assert not graph.log
