"""Photos handed to Instagram: Instagram fetches each image from a public address while publishing.

Photos of children are otherwise never public, so each address is signed (it cannot be guessed or altered),
salted for this one purpose, expires within the hour, names the consent scope of the channel it was made
for, and serves only that scope's copy of the processed photo (posts/blur.py: metadata stripped, and the
faces leadership chose to blur blurred): never a thumbnail, never the stored photo when a face in it is to be
blurred for that scope. It stops working as soon as a child pictured loses consent in that scope, unless
that child's face is blurred in the copy, whatever the signature says.
"""

import io

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from posts.blur import ScopeCopy, scope_copy
from posts.gate import consent_problems
from posts.models import PostImage, PostStatus

SALT = "posts.signed-media.instagram"
# Posts whose photos may be fetched: approved and on their way out, or out.
SERVABLE = {PostStatus.APPROVED, PostStatus.PUBLISHED}


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def sign_image(image: PostImage, *, scope: str) -> str:
    return _signer().sign_object({"image": image.pk, "scope": scope})


def signed_image_url(image: PostImage, *, scope: str) -> str:
    """An absolute address for ``image`` that the platform can fetch for the next hour."""
    token = sign_image(image, scope=scope)
    return settings.SITE_URL.rstrip("/") + reverse("posts:signed_image", kwargs={"token": token})


def image_for_token(token: str, *, max_age: int | None = None) -> PostImage:
    """The photo a token names, or Http404 if the token is altered, expired or no longer allowed."""
    return _claimed(token, max_age=max_age)[0]


def copy_for_token(token: str, *, max_age: int | None = None) -> ScopeCopy:
    """The copy of the photo made for the token's scope, with consent as it is now."""
    image, scope = _claimed(token, max_age=max_age)
    try:
        return scope_copy(image, scope)
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc


def _claimed(token: str, *, max_age: int | None) -> tuple[PostImage, str]:
    try:
        claim = _signer().unsign_object(token, max_age=max_age or settings.SIGNED_MEDIA_MAX_AGE_SECONDS)
        image_id, scope = int(claim["image"]), str(claim["scope"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:  # SignatureExpired is a BadSignature
        raise Http404 from exc
    image = (
        PostImage.objects.select_related("post").prefetch_related("faces")
        .filter(pk=image_id, post__status__in=SERVABLE).first()
    )
    if image is None or not image.image:
        raise Http404
    # The post's own consent gate for this scope: a child without consent stops it, unless blurred in this copy.
    if consent_problems(image.post, scopes=[scope]):
        raise Http404
    return image, scope


@require_safe
@never_cache
def signed_image(request, token: str):
    copy = copy_for_token(token)
    response = FileResponse(io.BytesIO(copy.content), content_type=copy.content_type, filename=copy.filename)
    response["X-Robots-Tag"] = "noindex, noimageindex"
    return response
