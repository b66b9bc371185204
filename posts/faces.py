"""Finding faces in a photo, and never whose they are.

The detector is OpenCV's Haar cascade for frontal faces (``haarcascade_frontalface_alt.xml``),
which ships inside the ``opencv-python-headless`` wheel: nothing is downloaded at run time. It answers
one question, "where in this photo is something shaped like a face?", with rectangles. It computes no
embedding, template or any other description of a face that could be compared with another photo, and
it keeps nothing: the boxes are all we store. Matching a box to a child is done by a person on the
post's page. ``bench/face_detection.py`` compares it with the other detectors available and says why
this one was chosen (README, "Faces in photos").
"""

from functools import cache
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image

CASCADE = "haarcascade_frontalface_alt.xml"
# Faces are looked for on a copy at most this wide or high: a 12-megapixel photo costs a quarter of a
# second and little memory instead of seconds, and a face smaller than MIN_FACE at this size (about
# 1/50 of the photo's width) is too small to recognise anyone by.
DETECTION_SIDE = 1280
MIN_FACE = 24
# Each scale step is 10% (finer finds more faces, slower). A face must be found by 3 overlapping
# windows, fewer than OpenCV's usual 5: a missed face is a child published unseen, a false one costs
# a click ("not a face"), and at 3 this cascade found the most faces for very few false ones
# (bench/face_detection.py: 91 of 93 faces, 2 false, where frontalface_default made 57 false ones).
SCALE_FACTOR = 1.1
MIN_NEIGHBOURS = 3


class Box(NamedTuple):
    """A face's rectangle in the photo's own pixels."""

    x: int
    y: int
    width: int
    height: int


@cache
def _cascade(name: str = CASCADE) -> cv2.CascadeClassifier:
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    if cascade.empty():  # a broken install would otherwise find no face in any photo
        raise RuntimeError(f"OpenCV's {name} could not be loaded")
    return cascade


def detect_faces(photo: Image.Image, *, cascade: str = CASCADE, min_neighbours: int = MIN_NEIGHBOURS) -> list[Box]:
    """Every face found in ``photo``, left to right, in the photo's own coordinates."""
    grey = photo.convert("L")
    scale = min(1.0, DETECTION_SIDE / max(grey.size))
    if scale < 1.0:
        grey = grey.resize((round(grey.width * scale), round(grey.height * scale)), Image.Resampling.BILINEAR)
    # No histogram equalisation: on a dark or busy background it washed faces out (frontalface_default
    # found 38 of 48 faces with it, 46 without), and the cascade's features are already contrast-normalised.
    pixels = np.asarray(grey)
    found = _cascade(cascade).detectMultiScale(
        pixels, scaleFactor=SCALE_FACTOR, minNeighbors=min_neighbours, minSize=(MIN_FACE, MIN_FACE)
    )
    boxes = [
        Box(round(x / scale), round(y / scale), round(w / scale), round(h / scale)) for x, y, w, h in found
    ]
    return sorted(boxes, key=lambda b: (b.x, b.y))


def detect_faces_in_file(file) -> list[Box]:
    """Open a stored photo and find its faces; a JPEG is decoded straight at about the detection size."""
    with Image.open(file) as photo:
        full_size = photo.size
        photo.draft("L", (DETECTION_SIDE, DETECTION_SIDE))
        boxes = detect_faces(photo)
        ratio = full_size[0] / photo.width
    if ratio == 1:
        return boxes
    return [Box(round(b.x * ratio), round(b.y * ratio), round(b.width * ratio), round(b.height * ratio))
            for b in boxes]
