"""Group photos with a known number of faces, composited from the sample images scikit-image ships.

No face here belongs to a child or to anyone in the nursery: the faces are the public-domain
astronaut portrait and the Labeled Faces in the Wild crops that come with scikit-image
(``skimage.data.lfw_subset``, 100 faces then 100 non-faces, 25 x 25 pixels). Backgrounds are the
package's photos without people (coffee, rocket, textures, a cat); images with no face at all are
those backgrounds with the LFW non-face patches pasted where faces would go, so a detector that fires
on any pasted square is caught out.

Used by the face-detection tests, the browser journey and ``bench/face_detection.py``.
"""

import io
import random
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageFilter


@dataclass(frozen=True)
class Scene:
    image: Image.Image
    faces: tuple[tuple[int, int, int, int], ...]  # x, y, width, height of each pasted face

    def jpeg(self, quality: int = 90) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, "JPEG", quality=quality)
        return buffer.getvalue()


@cache
def _samples():
    from skimage import data

    lfw = (data.lfw_subset() * 255).astype(np.uint8)
    astronaut = Image.fromarray(data.astronaut())
    # The astronaut's face, with a little of her hair and collar around it, as a face looks in a photo.
    faces = [astronaut.crop((160, 45, 290, 185))]
    faces += [Image.fromarray(lfw[i]).convert("RGB") for i in range(100)]
    non_faces = [Image.fromarray(lfw[i]).convert("RGB") for i in range(100, 200)]
    backgrounds = [Image.fromarray(getattr(data, name)()).convert("RGB")
                   for name in ("coffee", "rocket", "chelsea", "brick", "grass", "gravel", "hubble_deep_field")]
    return faces, non_faces, backgrounds


def scene(seed: int, *, faces: int, size: tuple[int, int] = (1600, 1200), face_sides: tuple[int, int] = (90, 220),
          max_angle: float = 12.0) -> Scene:
    """A photo of ``size`` with ``faces`` faces (0 = a photo with look-alike squares but no face).

    Faces are placed on a grid so that none overlaps another, each ``face_sides`` pixels square (scaled
    with the photo's width from 1600), turned by up to ``max_angle`` degrees either way.
    """
    pool, decoys, backgrounds = _samples()
    rng = random.Random(seed)
    photo = backgrounds[seed % len(backgrounds)].resize(size, Image.Resampling.BICUBIC)
    scale = size[0] / 1600
    count = faces if faces else 4
    columns = max(1, min(count, 4))
    rows = -(-count // columns)
    cell_w, cell_h = size[0] // columns, size[1] // rows
    boxes = []
    for index in range(count):
        source = (rng.choice(pool) if faces else rng.choice(decoys))
        side = int(rng.uniform(*face_sides) * scale)
        side = min(side, int(min(cell_w, cell_h) * 0.7))
        patch = source.resize((side, side), Image.Resampling.BICUBIC)
        angle = rng.uniform(-max_angle, max_angle)
        mask = Image.new("L", patch.size, 255)
        turned = patch.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
        turned_mask = mask.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True).filter(
            ImageFilter.GaussianBlur(1)
        )
        column, row = index % columns, index // columns
        x = column * cell_w + rng.randint(0, max(0, cell_w - turned.width))
        y = row * cell_h + rng.randint(0, max(0, cell_h - turned.height))
        photo.paste(turned, (x, y), turned_mask)
        offset_x, offset_y = (turned.width - side) // 2, (turned.height - side) // 2
        boxes.append((x + offset_x, y + offset_y, side, side))
    return Scene(photo, tuple(boxes) if faces else ())


def matches(found, truth, *, min_overlap: float = 0.3) -> tuple[int, int]:
    """(true faces found, detections that are no true face): a detection counts if it overlaps a face
    by at least ``min_overlap`` of their union (a detector's square is tighter or looser than ours)."""
    matched: set[int] = set()
    false_positives = 0
    for box in found:
        best = max(range(len(truth)), key=lambda i: _iou(box, truth[i]), default=None)
        if best is not None and best not in matched and _iou(box, truth[best]) >= min_overlap:
            matched.add(best)
        else:
            false_positives += 1
    return len(matched), false_positives


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    return inter / (aw * ah + bw * bh - inter) if inter else 0.0
