"""Instagram publishing as Meta documents it: containers that are not ready at first, the errors Meta says to
retry (and those that need a new container), carousel items checked FINISHED, and the daily publishing limit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import Scope
from nursery.models import Notification, OutboxMessage
from posts.meta import publishing as meta_publishing
from posts.meta.client import ErrorKind, GraphError
from posts.meta.models import DeliveryState
from posts.meta.publishing import queue_delivery
from tests.factories import grant
from tests.posts.graph.fake_graph import IG_USER, FakeInstagram, graph_error
from tests.posts.graph.media import photo_post


@pytest.fixture
def send(django_capture_on_commit_callbacks, drain_outbox):
    def send(user, post, channel):
        with django_capture_on_commit_callbacks(execute=True):
            delivery = queue_delivery(user, post=post, channel=channel)
        drain_outbox()  # the retries, as the outbox's dispatcher sends them when due
        delivery.refresh_from_db()
        return delivery

    return send


@pytest.fixture
def one_photo(world):
    grant(world.child, Scope.PUBLIC)
    return photo_post(world, children=[world.child], caption="Sports day!")


@pytest.fixture
def three_photos(world):
    grant(world.child, Scope.PUBLIC)
    return photo_post(world, children=[world.child], photos=3, caption="Our Christmas concert")


def steps(fake, method, path):
    return [entry for entry in fake.log if entry == (method, path)]


# --- error classification (Meta's Instagram error-code reference) ----------------------------------------------


@pytest.mark.parametrize(("code", "subcode", "kind", "rebuild"), [
    (9007, 2207027, ErrorKind.TRANSIENT, False),  # media not ready for publishing
    (-1, 2207001, ErrorKind.TRANSIENT, False),  # Instagram server error
    (-2, 2207003, ErrorKind.TRANSIENT, False),  # download timed out
    (-1, 2207032, ErrorKind.TRANSIENT, True),  # create media failed: re-create it
    (-2, 2207020, ErrorKind.TRANSIENT, True),  # the media expired: new container
    (-1, 2207053, ErrorKind.TRANSIENT, True),  # unknown upload error: new container
    (9, 2207042, ErrorKind.LIMIT, False),  # daily publishing limit
    (36000, 2207004, ErrorKind.PERMANENT, False),  # image too large: retrying cannot help
    (190, 460, ErrorKind.TOKEN, False),  # password changed
])
def test_instagram_errors_are_classified_by_code_and_subcode(code, subcode, kind, rebuild):
    error = GraphError.from_response(400, graph_error(code, "x", subcode=subcode, transient=False),
                                     platform="Instagram")
    assert (error.kind, error.rebuild_container) == (kind, rebuild)


def test_is_transient_true_alone_makes_an_error_retryable():
    error = GraphError.from_response(400, graph_error(100, "x", transient=True), platform="Instagram")
    assert error.retryable


# --- containers ------------------------------------------------------------------------------------------------


def test_a_container_in_progress_at_first_is_published_once_finished(graph, world, instagram_account, one_photo,
                                                                     send):
    fake = FakeInstagram(graph)
    delivery = send(world.leader, one_photo, instagram_account)
    assert (delivery.state, delivery.external_id) == (DeliveryState.PUBLISHED, "m1")
    assert delivery.permalink == "https://www.instagram.com/p/m1/"
    assert len(steps(fake, "POST", f"{IG_USER}/media")) == 1
    assert len(steps(fake, "GET", "c1")) == 2  # IN_PROGRESS, then FINISHED
    assert steps(fake, "GET", f"{IG_USER}/content_publishing_limit")


def test_carousel_items_are_all_finished_before_the_carousel_is_made(graph, world, instagram_account, three_photos,
                                                                    send):
    fake = FakeInstagram(graph)
    delivery = send(world.leader, three_photos, instagram_account)
    assert delivery.state == DeliveryState.PUBLISHED
    carousel_made = fake.log.index(("POST", f"{IG_USER}/media"), 3)  # the fourth container: the carousel
    for item in ("c1", "c2", "c3"):
        polls = [n for n, entry in enumerate(fake.log) if entry == ("GET", item)]
        assert polls and max(polls) < carousel_made
        assert fake._status(fake.containers[item], poll=False) == "FINISHED"
    assert fake.containers["c4"]["form"]["children"] == "c1,c2,c3"
    assert len([e for e in fake.log if e == ("POST", f"{IG_USER}/media")]) == 4  # items are never made twice


def test_a_carousel_item_that_failed_is_prepared_again(graph, world, instagram_account, three_photos, send):
    fake = FakeInstagram(graph, polls_before_finished=0)
    fake.fail("carousel", graph_error(-1, "Instagram server error", subcode=2207001))
    original = fake._status

    def second_item_errors_once(container, *, poll=True):
        if container is fake.containers.get("c2") and not container.get("seen"):
            container["seen"] = True
            return "ERROR"
        return original(container, poll=poll)

    fake._status = second_item_errors_once
    delivery = send(world.leader, three_photos, instagram_account)
    assert delivery.state == DeliveryState.PUBLISHED
    carousel = [c for c in fake.containers.values() if c["form"].get("media_type") == "CAROUSEL"][-1]
    assert "c2" not in carousel["form"]["children"].split(",")
    assert len(carousel["form"]["children"].split(",")) == 3


@pytest.mark.parametrize(("code", "subcode"), [(9007, 2207027), (-1, 2207001), (-2, 2207003)])
def test_errors_meta_says_to_retry_are_retried_and_go_through(graph, world, instagram_account, one_photo, send,
                                                              code, subcode):
    fake = FakeInstagram(graph, polls_before_finished=0)
    fake.fail("publish", graph_error(code, "Try again", subcode=subcode, transient=False), times=2)
    delivery = send(world.leader, one_photo, instagram_account)
    assert (delivery.state, delivery.attempts) == (DeliveryState.PUBLISHED, 3)
    assert len(fake.containers) == 1  # the same container all along


def test_create_media_failed_builds_a_new_container_and_publishes(graph, world, instagram_account, one_photo, send):
    fake = FakeInstagram(graph, polls_before_finished=0)
    fake.fail("publish", graph_error(-1, "Create media fail, please try to re-create media", subcode=2207032))
    delivery = send(world.leader, one_photo, instagram_account)
    assert delivery.state == DeliveryState.PUBLISHED
    assert delivery.container_id == "c2"
    assert fake.published == ["m1"]


def test_retryable_errors_stop_at_the_cap(graph, world, instagram_account, one_photo, send):
    fake = FakeInstagram(graph, polls_before_finished=0)
    fake.fail("publish", graph_error(-2, "It takes too long to download the media.", subcode=2207003), times=50)
    delivery = send(world.leader, one_photo, instagram_account)
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, meta_publishing.MAX_ATTEMPTS)
    assert "temporary problem" in delivery.error_message


# --- the daily publishing limit ---------------------------------------------------------------------------------


def test_a_full_publishing_limit_holds_the_post_with_a_plain_reason(graph, world, instagram_account, one_photo,
                                                                     send):
    fake = FakeInstagram(graph, quota_total=100, quota_usage=100, polls_before_finished=0)
    delivery = send(world.leader, one_photo, instagram_account)
    assert delivery.state == DeliveryState.RETRYING
    assert delivery.error["kind"] == ErrorKind.LIMIT
    assert "reached that limit" in delivery.error_message and "Next look at" in delivery.error_message
    assert delivery.next_attempt_at - timezone.now() > timedelta(minutes=55)
    assert not steps(fake, "POST", f"{IG_USER}/media_publish")  # nothing was sent into the limit
    notice = Notification.objects.get(recipient=world.leader)
    assert notice.subject.startswith("Held by Instagram's daily limit")
    assert "check the post" not in notice.body.lower()


def test_a_held_post_goes_out_when_the_limit_frees_without_spending_attempts(graph, world, instagram_account,
                                                                            one_photo, send):
    fake = FakeInstagram(graph, quota_total=100, quota_usage=100, polls_before_finished=0)
    delivery = send(world.leader, one_photo, instagram_account)
    attempts = delivery.attempts
    for _ in range(3):  # three hourly looks, still full: still held, still one message to leadership
        meta_publishing.deliver(delivery.pk, now=timezone.now() + timedelta(hours=2))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.RETRYING, attempts)
    assert Notification.objects.filter(recipient=world.leader).count() == 1
    fake.quota_usage = 99
    outcome = meta_publishing.deliver(delivery.pk, now=timezone.now() + timedelta(hours=5))
    assert outcome.state == DeliveryState.PUBLISHED


def test_the_limit_refusal_from_publish_itself_also_holds(graph, world, instagram_account, one_photo, send):
    fake = FakeInstagram(graph, polls_before_finished=0)
    fake.fail("limit", graph_error(10, "Permission denied"))  # the limit cannot be read: publishing goes ahead
    fake.fail("publish", graph_error(9, "Application request limit reached", subcode=2207042))
    delivery = send(world.leader, one_photo, instagram_account)
    assert delivery.state == DeliveryState.RETRYING
    assert delivery.error["error_subcode"] == 2207042


def test_the_sweep_picks_up_a_held_post_when_due(graph, world, instagram_account, one_photo, send):
    FakeInstagram(graph, quota_usage=100, polls_before_finished=0)
    delivery = send(world.leader, one_photo, instagram_account)
    OutboxMessage.objects.all().delete()
    assert meta_publishing.sweep_due(now=timezone.now()) == 0
    assert meta_publishing.sweep_due(now=timezone.now() + timedelta(hours=1, minutes=1)) == 1
    assert OutboxMessage.objects.get().args == [delivery.pk]
