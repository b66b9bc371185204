"""Blurred copies: what a channel is sent when leadership chose to blur faces in a photo.

Each channel's audience is a consent scope (closed or public), and each scope gets its own copy of a
photo. A face is blurred in the copy for ``scope`` when

- a leader chose to blur that face by hand (``DetectedFace.blur``): in every copy, or
- the post opts in (``Post.blur_unconsented``) and the face is linked to a child who lacks effective
  consent in ``scope`` at the moment the copy is made (so consent withdrawn after approval is seen).

Blurring is irreversible: the face and a margin around it are pixelated to a handful of cells, which throws
away everything but a few average colours, and then smoothed with a Gaussian blur so the cells' edges say
nothing either; the copy is a new JPEG made from those pixels alone, with no metadata. Copies are made
on demand from the stored photo, never stored: nothing more of a child is kept, and every copy reflects
consent as it is now. The stored photo itself leaves the app only when no face in it is to be blurred
for that scope.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageFilter

from consent.queries import children_lacking_consent
from posts.faces import Box
from posts.images import clean_jpeg
from posts.models import DetectedFace, PostImage, Publication

# The area blurred is the detector's box grown by a quarter of its width and height on each side: the
# detector's square is tight (forehead to chin), and hair, ears and jaw line identify a child too.
MARGIN = 0.25
# The blurred area is pixelated to at most this many cells along its longer side, so the face itself
# (two thirds of the area) is about five cells across: no feature survives, only skin and hair colour.
CELLS = 8
MIN_CELL = 4  # pixels: a tiny face still loses all detail


def blur_area(box: Box, size: tuple[int, int], *, margin: float = MARGIN) -> tuple[int, int, int, int]:
    """The rectangle (left, top, right, bottom) blurred for ``box``: grown by ``margin``, kept inside the photo."""
    grow_x, grow_y = math.ceil(box.width * margin), math.ceil(box.height * margin)
    return (max(0, box.x - grow_x), max(0, box.y - grow_y),
            min(size[0], box.x + box.width + grow_x), min(size[1], box.y + box.height + grow_y))


def blur_faces(picture: Image.Image, boxes: Iterable[Box], *, margin: float = MARGIN) -> Image.Image:
    """A copy of ``picture`` (RGB) with each box and its margin pixelated and blurred; the rest untouched."""
    result = picture.convert("RGB") if picture.mode != "RGB" else picture.copy()
    for box in boxes:
        left, top, right, bottom = blur_area(box, result.size, margin=margin)
        if right <= left or bottom <= top:
            continue  # a box wholly outside the photo: nothing of it to hide
        result.paste(_obscure(result.crop((left, top, right, bottom))), (left, top))
    return result


def _obscure(region: Image.Image) -> Image.Image:
    width, height = region.size
    cell = max(MIN_CELL, math.ceil(max(width, height) / CELLS))
    # BOX averages every pixel of a cell (nothing of the face is sampled through); NEAREST keeps the cells.
    cells = region.resize((max(1, math.ceil(width / cell)), max(1, math.ceil(height / cell))), Image.Resampling.BOX)
    blocky = cells.resize((width, height), Image.Resampling.NEAREST)
    return blocky.filter(ImageFilter.GaussianBlur(cell / 2))


@dataclass(frozen=True)
class ScopeCopy:
    """The bytes of one photo as the channels of one scope receive it."""

    content: bytes
    filename: str
    blurred: tuple[int, ...]  # the numbers of the faces blurred in it

    content_type = "image/jpeg"


def faces_to_blur(image: PostImage, scope: str, *, now: datetime | None = None) -> list[DetectedFace]:
    """The faces blurred in ``image``'s copy for ``scope``, with consent read now (or at ``now``)."""
    faces = list(image.faces.all())
    lacking: set[int] = set()
    if image.post.blur_unconsented:
        linked = {face.child_id for face in faces if face.child_id and not face.blur}
        if linked:
            lacking = {state.child_id for state in children_lacking_consent(linked, [scope], now=now)}
            # Once published, a child recorded as blurred on a channel of this scope stays blurred in its copies
            # even if consent came since: the takedown rules trust that record (posts.services).
            lacking |= set(Publication.blurred_children.through.objects.filter(
                publication__post_id=image.post_id, publication__channel__audience=scope, child_id__in=linked,
            ).values_list("child_id", flat=True))
    return [face for face in faces if face.blur or face.child_id in lacking]


def scope_copy(image: PostImage, scope: str, *, now: datetime | None = None) -> ScopeCopy:
    """``image`` as sent to the channels of ``scope``: the stored photo when no face is to be blurred there,
    otherwise a new JPEG with those faces blurred (read through the storage API: disk or S3 alike)."""
    faces = faces_to_blur(image, scope, now=now)
    filename = f"photo-{image.pk}-{scope}.jpg"
    with image.image.open("rb") as handle:
        if not faces:
            return ScopeCopy(handle.read(), filename, ())
        with Image.open(handle) as picture:
            picture.load()
            blurred = blur_faces(picture, [Box(f.x, f.y, f.width, f.height) for f in faces])
    return ScopeCopy(clean_jpeg(blurred), filename, tuple(face.number for face in faces))
