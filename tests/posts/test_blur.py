"""Blurred copies really blur, leave the rest of the photo alone and carry no metadata (posts/blur.py)."""

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from PIL import Image

from consent.models import Scope
from posts.blur import MARGIN, blur_area, blur_faces, faces_to_blur, scope_copy
from posts.faces import Box, detect_faces
from posts.models import FaceMarking
from tests.factories import grant
from tests.posts.factories import DetectedFaceFactory, PostImageFactory
from tests.posts.photos import gps_exif
from tests.posts.scenes import matches, scene

# How far a blurred face must move from the original, as the mean absolute difference of its pixels (0-255):
# re-encoding a JPEG at quality 85 moves pixels by about 1-2 levels on average (measured below on the
# untouched part of the same photo), so 12 is several times what the codec alone could explain.
MIN_CHANGE_INSIDE = 12.0
# What is left of the face's detail: the mean absolute Laplacian (eyes, nose, mouth are its edges) of the box
# seen at 24 pixels across, about the smallest face the detector still finds (posts/faces.py MIN_FACE), as a
# share of the original's. We measure 5-9% left on these faces; 15% leaves room without letting a face through.
MAX_DETAIL_LEFT = 0.15
# Outside the blurred areas the copy is the same photo re-encoded once: within JPEG noise.
MAX_CHANGE_OUTSIDE = 3.0


def group():
    return scene(21, faces=3, size=(1600, 1200), face_sides=(180, 260), max_angle=5)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def detail(image: Image.Image, box) -> float:
    x, y, w, h = box
    grey = np.asarray(image.crop((x, y, x + w, y + h)).convert("L").resize((24, 24), Image.Resampling.BOX), float)
    lap = 4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    return float(np.abs(lap).mean())


def outside_mask(size, boxes) -> np.ndarray:
    mask = np.ones((size[1], size[0]), dtype=bool)
    for box in boxes:
        left, top, right, bottom = blur_area(Box(*box), size)
        mask[top:bottom, left:right] = False
    return mask


def test_it_blurs_each_face_beyond_recognition_and_leaves_the_rest_of_the_photo_untouched():
    photo = group()
    boxes = [Box(*b) for b in photo.faces]

    blurred = blur_faces(photo.image, boxes)

    before, after = pixels(photo.image), pixels(blurred)
    for x, y, w, h in photo.faces:
        inside_before, inside_after = before[y:y + h, x:x + w], after[y:y + h, x:x + w]
        assert np.abs(inside_after - inside_before).mean() > MIN_CHANGE_INSIDE
        assert detail(blurred, (x, y, w, h)) < MAX_DETAIL_LEFT * detail(photo.image, (x, y, w, h))
    # On the pixel path (no JPEG in between) everything outside box + margin is exactly the original.
    mask = outside_mask(photo.image.size, photo.faces)
    assert np.array_equal(before[mask], after[mask])
    # The detector that found these faces finds none of them any more.
    assert matches(detect_faces(photo.image), photo.faces)[0] == 3
    assert matches(detect_faces(blurred), photo.faces)[0] == 0


def test_the_blurred_area_grows_by_the_margin_and_stays_inside_the_photo():
    assert blur_area(Box(100, 100, 40, 80), (1000, 1000)) == (90, 80, 150, 200)
    assert MARGIN == 0.25
    # A face at the corner: the margin is clipped at the edges, never wrapped or refused.
    assert blur_area(Box(0, 5, 40, 40), (30, 30)) == (0, 0, 30, 30)
    corner = Image.new("RGB", (30, 30), "white")
    corner.paste((0, 0, 0), (0, 0, 15, 30))
    assert blur_faces(corner, [Box(0, 5, 40, 40), Box(500, 500, 10, 10)]).size == (30, 30)


@pytest.fixture
def stored_group(world, make_post, public_channel, closed_channel):
    """The group photo stored as a phone left it (EXIF with GPS), three faces: Amara's, an adult's, a stranger's."""
    photo = group()
    buffer = io.BytesIO()
    photo.image.save(buffer, "JPEG", quality=95, exif=gps_exif(), comment=b"secret comment")
    post = make_post(channels=[closed_channel, public_channel], children=[])
    image = PostImageFactory(post=post, children=[world.child], image=ContentFile(buffer.getvalue(), name="g.jpg"))
    post.images.exclude(pk=image.pk).delete()
    markings = [(FaceMarking.CHILD, world.child), (FaceMarking.ADULT, None), ("", None)]
    faces = [DetectedFaceFactory(image=image, number=n, x=x, y=y, width=w, height=h, marking=m, child=c)
             for n, ((x, y, w, h), (m, c)) in enumerate(zip(photo.faces, markings, strict=True), start=1)]
    return photo, post, image, faces


def test_a_copy_carries_no_metadata_and_changes_only_the_blurred_faces(world, stored_group):
    photo, post, image, faces = stored_group
    faces[2].blur = True
    faces[2].save()
    with Image.open(image.image.open("rb")) as original:
        assert original.getexif().get_ifd(0x8825)  # the stored file has GPS, as a careless upload might
        original_pixels = pixels(original)

    copy = scope_copy(image, Scope.CLOSED)

    assert copy.blurred == (3,)
    assert b"secret comment" not in copy.content and b"Exif" not in copy.content
    with Image.open(io.BytesIO(copy.content)) as sent:
        assert sent.format == "JPEG" and sent.size == photo.image.size
        assert not sent.getexif() and "icc_profile" not in sent.info and "comment" not in sent.info
        sent_pixels = pixels(sent)
    x, y, w, h = photo.faces[2]
    assert np.abs(sent_pixels[y:y + h, x:x + w] - original_pixels[y:y + h, x:x + w]).mean() > MIN_CHANGE_INSIDE
    mask = outside_mask(photo.image.size, [photo.faces[2]])
    assert np.abs(sent_pixels[mask] - original_pixels[mask]).mean() < MAX_CHANGE_OUTSIDE


def test_children_without_consent_are_blurred_only_in_the_copy_for_that_scope(world, stored_group):
    photo, post, image, faces = stored_group
    grant(world.child, Scope.CLOSED)  # closed consent, no public consent

    assert faces_to_blur(image, Scope.PUBLIC) == []  # the post has not opted in
    post.blur_unconsented = True
    post.save()
    image.refresh_from_db()

    assert faces_to_blur(image, Scope.CLOSED) == []
    assert faces_to_blur(image, Scope.PUBLIC) == [faces[0]]
    assert scope_copy(image, Scope.PUBLIC).blurred == (1,)


def test_with_nothing_to_blur_the_copy_is_the_stored_photo(world, make_post):
    image = make_post().images.get()
    DetectedFaceFactory(image=image, marking=FaceMarking.ADULT)

    copy = scope_copy(image, Scope.PUBLIC)

    assert copy.blurred == () and copy.content == image.image.open("rb").read()
