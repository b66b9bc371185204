"""Read-side: who may see which post, and the querysets each page needs (a fixed number of queries)."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from consent.queries import ConsentState, consent_states
from nursery.models import Child, Nursery
from nursery.permissions import get_object_in_nursery, is_leader, is_staff_member
from posts.models import GraphDelivery, Post, PostEvent, PostImage, PostStatus, Publication, Takedown

S = PostStatus
OUT_IN_THE_WORLD = (S.PUBLISHED, S.TAKEN_DOWN)


def posts_visible_to(user, nursery: Nursery | int) -> QuerySet[Post]:
    """Leadership sees every post; other staff their own and what went out; parents none (other children)."""
    posts = Post.objects.filter(nursery=nursery)
    if is_leader(user, nursery):
        return posts
    if is_staff_member(user, nursery):
        return posts.filter(Q(author=user) | Q(status__in=OUT_IN_THE_WORLD))
    return posts.none()


def may_view(user, post: Post) -> bool:
    return is_leader(user, post.nursery_id) or (
        is_staff_member(user, post.nursery_id) and (post.author_id == user.pk or post.status in OUT_IN_THE_WORLD)
    )


def get_post_for_user(request, pk, queryset: QuerySet[Post] | None = None) -> Post:
    """404 for a post outside the active nursery; 403 for one of it that the user may not see."""
    post = get_object_in_nursery(request, queryset if queryset is not None else Post.objects.all(), pk=pk)
    if not may_view(request.user, post):
        raise PermissionDenied("You cannot see this post.")
    return post


def get_image_for_user(request, pk) -> PostImage:
    image = get_object_in_nursery(request, PostImage.objects.select_related("post"), nursery_field="post__nursery",
                                  pk=pk)
    if not may_view(request.user, image.post):
        raise PermissionDenied("You cannot see this photo.")
    return image


def with_images(posts: QuerySet[Post]) -> QuerySet[Post]:
    return posts.select_related("author", "occasion", "approved_by").prefetch_related(
        "channels",
        Prefetch("images", queryset=PostImage.objects.prefetch_related(
            Prefetch("children", queryset=Child.objects.order_by("first_name", "last_name")))),
    )


def post_detail(pk) -> QuerySet[Post]:
    return with_images(Post.objects.filter(pk=pk)).prefetch_related(
        Prefetch("events", queryset=PostEvent.objects.select_related("actor")),
        Prefetch("publications", queryset=Publication.objects.select_related("channel", "published_by", "removed_by")),
        Prefetch("takedowns", queryset=Takedown.objects.select_related("child", "confirmed_by")),
        Prefetch("graph_deliveries",
                 queryset=GraphDelivery.objects.select_related("channel").order_by("channel__name")),
    )


@dataclass(frozen=True)
class ChildConsent:
    child: Child
    states: tuple[ConsentState, ...]  # one per scope the post's channels need

    @property
    def ok(self) -> bool:
        return all(s.effective for s in self.states)


@dataclass(frozen=True)
class ImageConsent:
    image: PostImage
    children: tuple[ChildConsent, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.children)


def consent_at_a_glance(posts: list[Post], *, now: datetime | None = None) -> dict[int, list[ImageConsent]]:
    """Per post, per image: each child pictured and their consent in every scope the post needs.

    One consent lookup for all the posts together (expects ``with_images``), so a long queue costs no more.
    """
    child_ids = {c.pk for post in posts for image in post.images.all() for c in image.children.all()}
    scopes = {channel.audience for post in posts for channel in post.channels.all()}
    states = consent_states(child_ids, scopes, now=now or timezone.now()) if child_ids and scopes else {}
    glance = {}
    for post in posts:
        needed = sorted({channel.audience for channel in post.channels.all()})
        glance[post.pk] = [
            ImageConsent(image, tuple(
                ChildConsent(child, tuple(states[(child.pk, scope)] for scope in needed))
                for child in image.children.all()
            ))
            for image in post.images.all()
        ]
    return glance


def approval_queue(nursery: Nursery) -> QuerySet[Post]:
    return with_images(Post.objects.filter(nursery=nursery, status=S.SUBMITTED)).order_by("submitted_at", "pk")


def my_posts(user, nursery: Nursery) -> QuerySet[Post]:
    return with_images(Post.objects.filter(nursery=nursery, author=user)).order_by("-updated_at", "-pk")


def scheduled_posts(nursery: Nursery) -> QuerySet[Post]:
    return with_images(
        Post.objects.filter(nursery=nursery, status=S.APPROVED, scheduled_for__isnull=False)
    ).order_by("scheduled_for", "pk")


def approved_posts(nursery: Nursery) -> QuerySet[Post]:
    return with_images(Post.objects.filter(nursery=nursery, status=S.APPROVED, scheduled_for__isnull=True)).order_by(
        "approved_at", "pk"
    )


def published_posts(nursery: Nursery) -> QuerySet[Post]:
    return with_images(Post.objects.filter(nursery=nursery, status__in=OUT_IN_THE_WORLD)).prefetch_related(
        Prefetch("publications", queryset=Publication.objects.select_related("channel"))
    ).order_by("-published_at", "-pk")


def takedowns(nursery: Nursery, *, open_only: bool = True) -> QuerySet[Takedown]:
    found = Takedown.objects.filter(nursery=nursery).select_related("post", "child", "confirmed_by")
    if open_only:
        return found.filter(confirmed_at__isnull=True).order_by("deadline", "pk")
    return found.filter(confirmed_at__isnull=False).order_by("-confirmed_at", "-pk")


def takedown_publications(takedown: Takedown) -> list[Publication]:
    """The channels a takedown concerns, each with how its removal is going (``delivery``: the Graph delivery
    deleting it in the background, or ``None`` for a channel handled by hand)."""
    publications = list(
        takedown.post.publications.select_related("channel").filter(channel__audience=takedown.scope)
        .order_by("channel__name", "pk")
    )
    deliveries = {d.channel_id: d for d in takedown.post.graph_deliveries.all()}
    for publication in publications:
        publication.delivery = deliveries.get(publication.channel_id)
    return publications
