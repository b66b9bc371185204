"""Comments as Meta really sends them: image and sticker comments, visitor posts, both Instagram shapes,
live comments, comments on one photo of a multi-photo post, and a link to open each on the platform.

The payloads follow Meta's documented examples (Webhooks for Pages ``feed``; Instagram webhook examples for
Instagram Login and Facebook Login) and a captured image-only comment, which has no ``message`` key at all.
"""

import pytest
from django.utils import timezone

from moderation.models import Comment, CommentKind, ItemStatus, ModerationItem, Priority
from moderation.services import acknowledge_items, drain_deliveries, process_delivery
from posts.meta.models import DeliveryState, GraphDelivery
from posts.meta.webhooks import sign
from tests.moderation.conftest import IG_ID, PAGE_ID, SECRET
from tests.moderation.factories import body, instagram_delivery, page_delivery, published_post

URL = "/webhooks/meta/"
PERMALINK = f"https://www.facebook.com/{PAGE_ID}/posts/pfbid02Xk7"
PHOTO = "https://scontent.xx.fbcdn.net/v/t39.30808-6/4711_n.jpg?_nc_cat=101&oh=00_AY&oe=6760B2F1"
STICKER = "https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png?_nc_cat=1"


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    def _deliver(payload):
        raw = body(payload)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(URL, data=raw, content_type="application/json",
                                   HTTP_X_HUB_SIGNATURE_256=sign(raw, SECRET))
        assert response.status_code == 200, response.content
        drain_deliveries()
        return response

    return _deliver


def feed_comment(*, comment_id="5001_7001", post_id=f"{PAGE_ID}_5001", verb="add", author=("4242", "Jo Parker"),
                 **extra):
    """A Page ``feed`` comment change in Meta's shape; ``extra`` adds ``message``, ``photo`` and so on."""
    value = {
        "from": {"id": author[0], "name": author[1]},
        "post": {"status_type": "added_photos", "is_published": True, "updated_time": "2025-11-25T10:00:00+0000",
                 "permalink_url": PERMALINK, "promotion_status": "inactive", "id": post_id},
        "post_id": post_id, "comment_id": comment_id, "created_time": 1764064800, "item": "comment",
        "parent_id": post_id, "verb": verb, **extra,
    }
    return {"field": "feed", "value": value}


def visitor_post(*, post_id=f"{PAGE_ID}_6001", item="status", verb="add", author=("4242", "Jo Parker"), **extra):
    value = {"from": {"id": author[0], "name": author[1]}, "post_id": post_id, "verb": verb, "item": item,
             "created_time": 1764064800, "published": 1, **extra}
    return {"field": "feed", "value": value}


def only_item():
    return ModerationItem.objects.select_related("comment").get()


# --- image and sticker comments -------------------------------------------------------------------------------


def test_an_image_only_comment_without_a_message_key_reaches_the_review_lane(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_comment(photo=PHOTO)))
    item = only_item()
    assert item.priority == Priority.MEDIUM
    assert item.comment.text == ""
    assert item.comment.photo_url == PHOTO
    assert "image" in item.actions.get().note


def test_an_empty_message_with_a_photo_is_never_in_the_clean_lane(world, page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_comment(message="", photo=PHOTO)))
    item = only_item()
    assert item.priority > Priority.ACKNOWLEDGE
    assert acknowledge_items(world.dsl, nursery=world.nursery, item_ids=[item.pk]) == 0
    item.refresh_from_db()
    assert item.status == ItemStatus.PENDING


def test_a_sticker_comment_keeps_its_image(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_comment(photo=STICKER)))
    assert only_item().comment.photo_url == STICKER


def test_a_comment_with_no_text_and_no_image_still_needs_a_person(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_comment()))
    item = only_item()
    assert item.priority == Priority.MEDIUM
    assert "open it on the platform" in item.actions.get().note


def test_text_and_a_photo_are_screened_and_still_flagged_for_the_photo(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_comment(message="Lovely day", photo=PHOTO)))
    item = only_item()
    assert item.comment.text == "Lovely day"
    assert item.priority == Priority.MEDIUM


def test_a_plain_text_comment_stays_in_the_clean_lane(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_comment(message="Lovely day")))
    assert only_item().priority == Priority.ACKNOWLEDGE


def test_a_new_image_in_an_edit_screens_the_comment_again(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_comment(message="Look")))
    deliver(page_delivery(PAGE_ID, feed_comment(message="Look", photo=PHOTO, verb="edited")))
    item = only_item()
    assert item.comment.photo_url == PHOTO
    assert item.priority == Priority.MEDIUM


def test_the_queue_shows_the_image_and_a_link_to_the_comment(client, world, page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_comment(photo=PHOTO)))
    client.force_login(world.dsl)
    page = client.get("/moderation/").content.decode()
    escaped = PHOTO.replace("&", "&amp;")
    assert f'src="{escaped}"' in page
    assert 'referrerpolicy="no-referrer"' in page
    assert f'href="{PERMALINK}?comment_id=7001"' in page


# --- links ----------------------------------------------------------------------------------------------------


def test_a_facebook_comment_links_to_its_post_with_the_comment_named(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_comment(message="Hi")))
    assert Comment.objects.get().link == f"{PERMALINK}?comment_id=7001"


def test_without_the_post_permalink_the_comment_id_itself_is_linked(page_channel, deliver):
    change = feed_comment(message="Hi")
    del change["value"]["post"]
    deliver(page_delivery(PAGE_ID, change))
    assert Comment.objects.get().link == "https://www.facebook.com/5001_7001"


def test_only_web_addresses_are_kept_as_links_or_images(page_channel, deliver):
    change = feed_comment(message="Hi", photo="javascript:alert(1)")
    change["value"]["post"]["permalink_url"] = "javascript:alert(2)"
    deliver(page_delivery(PAGE_ID, change))
    comment = Comment.objects.get()
    assert comment.photo_url == ""
    assert comment.link == "https://www.facebook.com/5001_7001"


def test_an_instagram_comment_on_our_post_links_to_the_post(world, ig_channel, deliver):
    post = published_post(world, ig_channel, external_id="17900000000000009")
    post.publications.update(url="https://www.instagram.com/p/DAbc123/")
    deliver(instagram_delivery(IG_ID, {"field": "comments", "value": {
        "from": {"id": "17841405555555555", "username": "jo.parker"}, "id": "17865799348089039",
        "media": {"id": "17900000000000009", "media_product_type": "FEED"}, "text": "So sweet"}}))
    assert Comment.objects.get().link == "https://www.instagram.com/p/DAbc123/"


# --- visitor posts --------------------------------------------------------------------------------------------


def test_a_post_by_someone_else_on_the_page_becomes_an_item_of_its_own_kind(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, visitor_post(message="Does anyone have the photos from sports day?")))
    item = only_item()
    assert item.comment.kind == CommentKind.VISITOR_POST
    assert item.comment.external_id == f"{PAGE_ID}_6001"
    assert item.comment.link == f"https://www.facebook.com/{PAGE_ID}_6001"
    assert item.priority >= Priority.MEDIUM
    assert "policy does not allow" in item.actions.get().note


def test_a_visitor_photo_post_keeps_its_photo(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, visitor_post(item="photo", photo_id="6002", link=PHOTO)))
    assert only_item().comment.photo_url == PHOTO


def test_the_pages_own_posts_are_not_items(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, visitor_post(message="Our news", author=(PAGE_ID, "Kids Count"))))
    assert not ModerationItem.objects.exists()


def test_a_removed_visitor_post_changes_its_state(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, visitor_post(message="Hello")))
    deliver(page_delivery(PAGE_ID, visitor_post(verb="remove", item="post")))
    assert Comment.objects.get().state == "removed"


def test_the_queue_names_a_visitor_post(client, world, page_channel, deliver):
    deliver(page_delivery(PAGE_ID, visitor_post(message="Hello")))
    client.force_login(world.dsl)
    assert "Post by someone else on the Page" in client.get("/moderation/").content.decode()


def test_reactions_and_likes_are_still_skipped(page_channel, deliver):
    like = {"field": "feed", "value": {"item": "reaction", "verb": "add", "post_id": f"{PAGE_ID}_1",
                                       "reaction_type": "like", "from": {"id": "1", "name": "A"}}}
    deliver(page_delivery(PAGE_ID, like))
    assert not Comment.objects.exists()


# --- Instagram shapes -----------------------------------------------------------------------------------------


def test_an_instagram_comment_in_the_facebook_login_shape_is_read(ig_channel, deliver):
    deliver({"object": "instagram", "entry": [{"id": IG_ID, "time": 1764064801, "changes": [{
        "field": "comments", "value": {
            "from": {"id": "17841405555555555", "username": "jo.parker", "self_ig_scoped_id": "2105722729836161"},
            "media": {"id": "17900000000000001", "media_product_type": "FEED"},
            "comment_id": "17865799348089040", "parent_id": "", "text": "Gorgeous"}}]}]})
    item = only_item()
    assert item.comment.external_id == "17865799348089040"
    assert item.comment.text == "Gorgeous"


def test_instagram_live_comments_are_read(ig_channel, deliver):
    deliver({"object": "instagram", "entry": [{"id": IG_ID, "time": 1764064801,
             "field": "live_comments", "value": {
                 "from": {"id": "17841405555555556", "username": "sam.b"}, "id": "17865799348089041",
                 "media": {"id": "17900000000000002", "media_product_type": "LIVE"}, "text": "Hi everyone"}}]})
    assert only_item().comment.text == "Hi everyone"


# --- a comment on one photo of a multi-photo post -------------------------------------------------------------


def test_a_comment_on_one_photo_of_a_multi_photo_post_is_linked_to_our_post(world, page_channel, deliver):
    post = published_post(world, page_channel, external_id=f"{PAGE_ID}_5001")
    GraphDelivery.objects.create(post=post, channel=page_channel, requested_by=world.leader,
                                 requested_at=timezone.now(), state=DeliveryState.PUBLISHED,
                                 external_id=f"{PAGE_ID}_5001", media_ids={"1": "900101", "2": "900102"})
    deliver(page_delivery(PAGE_ID, feed_comment(comment_id="900102_7002", post_id=f"{PAGE_ID}_900102",
                                                message="Is that my son?")))
    assert Comment.objects.get().post == post


def test_a_photo_id_that_only_contains_ours_does_not_link(world, page_channel, deliver):
    post = published_post(world, page_channel, external_id=f"{PAGE_ID}_5001")
    GraphDelivery.objects.create(post=post, channel=page_channel, requested_by=world.leader,
                                 requested_at=timezone.now(), state=DeliveryState.PUBLISHED,
                                 media_ids={"1": "1900101"})
    deliver(page_delivery(PAGE_ID, feed_comment(comment_id="900101_1", post_id=f"{PAGE_ID}_900101", message="Hi")))
    assert Comment.objects.get().post is None


def test_processing_the_same_image_comment_twice_changes_nothing(page_channel, deliver):
    deliver(page_delivery(PAGE_ID, feed_comment(photo=PHOTO)))
    from moderation.models import WebhookDelivery

    delivery = WebhookDelivery.objects.get()
    delivery.status = WebhookDelivery.Status.RECEIVED
    delivery.save()
    process_delivery(delivery_id=delivery.pk)
    assert ModerationItem.objects.count() == 1
    assert only_item().actions.count() == 1
