"""Posts with real processed photos, for the publishing tests."""

import io

from django.core.files.base import ContentFile
from PIL import Image

from posts.models import Post, PostImage, PostStatus


def jpeg_bytes(colour=(200, 120, 40), size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def photo_post(world, *, children=(), status=PostStatus.APPROVED, photos=1, caption="Our Christmas concert"):
    post = Post.objects.create(nursery=world.nursery, author=world.practitioner, caption=caption, status=status)
    for position in range(photos):
        image = PostImage(post=post, alt_text=f"Photo {position + 1} of the concert", position=position,
                          no_identifiable_child=not children)
        image.image.save(f"concert-{position}.jpg", ContentFile(jpeg_bytes()), save=False)
        image.thumbnail.save(f"concert-{position}-thumb.jpg", ContentFile(jpeg_bytes(size=(16, 12))), save=False)
        image.width, image.height = 64, 48
        image.save()
        image.children.set(children)
    return post
