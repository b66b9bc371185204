"""Moderation factories, and real-shaped Meta webhook payloads."""

import json

import factory
from django.utils import timezone

from moderation.models import Comment, ModerationItem, Priority
from posts.models import Channel, Platform
from tests.factories import NurseryFactory


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    nursery = factory.SubFactory(NurseryFactory)
    name = factory.Sequence(lambda n: f"Page {n}")
    platform = Platform.FACEBOOK
    audience = "public"
    external_id = factory.Sequence(lambda n: f"1000000000{n:05d}")


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    channel = factory.SubFactory(ChannelFactory)
    nursery = factory.SelfAttribute("channel.nursery")
    platform = factory.SelfAttribute("channel.platform")
    external_id = factory.Sequence(lambda n: f"c{n}")
    author_name = "A parent"
    text = "Lovely photos"
    received_at = factory.LazyFunction(timezone.now)


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModerationItem

    comment = factory.SubFactory(CommentFactory)
    nursery = factory.SelfAttribute("comment.nursery")
    channel = factory.SelfAttribute("comment.channel")
    priority = Priority.HIGH
    opened_at = factory.LazyFunction(timezone.now)


def feed_change(*, comment_id, verb="add", message=None, post_id="", parent_id=None, author=("4242", "Jo Parker"),
                created_time=1764064800, item="comment"):
    """The ``value`` of a Page ``feed`` change, as Meta sends it for comments."""
    value = {
        "from": {"id": author[0], "name": author[1]},
        "post_id": post_id, "comment_id": comment_id, "parent_id": parent_id or post_id,
        "created_time": created_time, "item": item, "verb": verb,
        "post": {"status_type": "added_photos", "is_published": True, "updated_time": "2025-11-25T10:00:00+0000",
                 "permalink_url": "https://www.facebook.com/kidscount/posts/1", "promotion_status": "inactive",
                 "id": post_id},
    }
    if message is not None:
        value["message"] = message
    return {"field": "feed", "value": value}


def page_delivery(page_id, *changes, time=1764064801):
    return {"object": "page", "entry": [{"id": page_id, "time": time, "changes": list(changes)}]}


def instagram_change(*, comment_id, text, media_id="17900000000000001", author=("17841405555555555", "jo.parker"),
                     parent_id=None):
    value = {"from": {"id": author[0], "username": author[1]}, "media": {"id": media_id,
             "media_product_type": "FEED"}, "id": comment_id, "text": text}
    if parent_id:
        value["parent_id"] = parent_id
    return {"field": "comments", "value": value}


def instagram_delivery(account_id, *changes, time=1764064801):
    return {"object": "instagram", "entry": [{"id": account_id, "time": time, "changes": list(changes)}]}


def body(payload) -> bytes:
    return json.dumps(payload).encode()


def published_post(world, channel, *, external_id, children=(), caption="Sports day fun"):
    """A post we published on ``channel`` with platform id ``external_id``, picturing ``children``."""
    from posts.models import Post, PostImage, PostStatus, Publication

    post = Post.objects.create(nursery=world.nursery, author=world.leader, caption=caption,
                               status=PostStatus.PUBLISHED)
    post.channels.add(channel)
    if children:
        image = PostImage.objects.create(post=post, image="posts/x.jpg", thumbnail="posts/thumbs/x.jpg",
                                         alt_text="Children racing", width=10, height=10)
        image.children.set(children)
    Publication.objects.create(post=post, channel=channel, published_at=timezone.now(), published_by=world.leader,
                               external_id=external_id)
    return post
