"""Posts with real processed photos, for the publishing tests."""

from posts.models import PostStatus
from tests.posts.factories import PostFactory, PostImageFactory


def photo_post(world, *, children=(), status=PostStatus.APPROVED, photos=1, caption="Our Christmas concert",
               channels=()):
    post = PostFactory(nursery=world.nursery, author=world.practitioner, caption=caption, status=status,
                       approved_version=1 if status == PostStatus.APPROVED else None, channels=list(channels))
    for position in range(photos):
        PostImageFactory(post=post, alt_text=f"Photo {position + 1} of the concert", position=position,
                         no_identifiable_child=not children, children=list(children))
    return post
