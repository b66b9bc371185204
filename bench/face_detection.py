"""Which face detector, and what does it cost on a 12-megapixel photo?

Composites group scenes with a known number of faces from scikit-image's sample images
(``tests/posts/scenes.py``: 0 to 6 faces, turned up to 12 degrees, at three photo sizes, plus scenes
with face-sized squares and no face) and runs each detector that ships inside a PyPI package:

- OpenCV's Haar cascades ``frontalface_default`` and ``frontalface_alt2`` (each at 3 and 5
  neighbours) and ``frontalface_alt`` (``opencv-python-headless``);
- scikit-image's LBP frontal-face cascade (``skimage.feature.Cascade``).

It prints recall (true faces found / faces pasted), false positives, and time per photo; then the time
and peak memory of ``posts.faces.detect_faces_in_file`` on a 12-megapixel JPEG, each in a fresh process.

    .venv/bin/python bench/face_detection.py [--scenes 12]   # about 2 minutes of CPU
"""

import argparse
import io
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = ((1024, 768), (1600, 1200), (4032, 3024))


def scenes(count: int):
    from tests.posts.scenes import scene

    made = []
    for size in SIZES:
        for index in range(count):
            faces = index % 7  # 0..6 faces; every 7th scene has decoy squares and no face
            made.append(scene(1000 * size[0] + index, faces=faces, size=size))
    return made


def lbp_detector():
    from skimage import data
    from skimage.feature import Cascade

    from posts.faces import DETECTION_SIDE, MIN_FACE, Box

    cascade = Cascade(data.lbp_frontal_face_cascade_filename())

    def detect(photo):
        grey = photo.convert("L")
        scale = min(1.0, DETECTION_SIDE / max(grey.size))
        grey = grey.resize((round(grey.width * scale), round(grey.height * scale)))
        import numpy as np

        found = cascade.detect_multi_scale(img=np.asarray(grey) / 255.0, scale_factor=1.2, step_ratio=1,
                                           min_size=(MIN_FACE, MIN_FACE), max_size=(600, 600))
        return [Box(round(f["c"] / scale), round(f["r"] / scale), round(f["width"] / scale),
                    round(f["height"] / scale)) for f in found]

    return detect


def detectors():
    from posts.faces import detect_faces

    def haar(cascade, neighbours):
        return lambda photo: detect_faces(photo, cascade=cascade, min_neighbours=neighbours)

    return {
        "haar default, 3 neighbours": haar("haarcascade_frontalface_default.xml", 3),
        "haar default, 5 neighbours": haar("haarcascade_frontalface_default.xml", 5),
        "haar alt2, 3 neighbours": haar("haarcascade_frontalface_alt2.xml", 3),
        "haar alt2, 5 neighbours": haar("haarcascade_frontalface_alt2.xml", 5),
        "haar alt, 3 neighbours (chosen)": haar("haarcascade_frontalface_alt.xml", 3),
        "scikit-image LBP": lbp_detector(),
    }


def compare(count: int) -> None:
    from tests.posts.scenes import matches

    made = scenes(count)
    total = sum(len(s.faces) for s in made)
    empty = sum(1 for s in made if not s.faces)
    sizes = ", ".join(f"{w}x{h}" for w, h in SIZES)
    print(f"{len(made)} scenes ({empty} without a face), {total} faces, sizes {sizes}")
    print(f"{'detector':38} {'recall':>12} {'false pos.':>10} {'FP on no-face':>13} {'ms/photo':>9}")
    for name, detect in detectors().items():
        found_total = false_total = false_empty = 0
        started = time.perf_counter()
        for s in made:
            found, false = matches(detect(s.image), list(s.faces))
            found_total += found
            false_total += false
            false_empty += false if not s.faces else 0
        elapsed = (time.perf_counter() - started) / len(made) * 1000
        print(f"{name:38} {found_total:>4}/{total:<4} {found_total / total:4.0%} {false_total:>10} "
              f"{false_empty:>13} {elapsed:>9.0f}")


def twelve_megapixels(queue) -> None:
    import numpy as np
    from PIL import Image

    from tests.posts.scenes import scene

    photo = scene(7, faces=5, size=(4000, 3000))
    buffer = io.BytesIO()
    # Noise over the scene so that it compresses like a real 12 MP photo (several MB), not a flat one.
    noise = np.random.default_rng(1).integers(-12, 12, (3000, 4000, 1))
    noisy = np.clip(np.asarray(photo.image, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(buffer, "JPEG", quality=92)
    queue.put(buffer.getvalue())


def measure(data: bytes, queue) -> None:
    from posts.faces import detect_faces_in_file

    before = peak_mb()
    started, cpu = time.perf_counter(), time.process_time()
    boxes = detect_faces_in_file(io.BytesIO(data))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    queue.put((elapsed, cpu, before, peak_mb(), len(boxes)))


def peak_mb() -> float:
    # VmHWM is this process's own high-water mark; ru_maxrss would carry the parent's over exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def budget(runs: int = 3) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    maker = context.Process(target=twelve_megapixels, args=(queue,))
    maker.start()
    data = queue.get()
    maker.join()
    print(f"12-megapixel JPEG ({len(data) / 1e6:.1f} MB), posts.faces.detect_faces_in_file, fresh process each run:")
    for _ in range(runs):
        worker = context.Process(target=measure, args=(data, queue))
        worker.start()
        elapsed, cpu, before, peak, faces = queue.get()
        worker.join()
        print(f"  {elapsed:.2f} s ({cpu:.2f} s of CPU), peak RSS {peak:.0f} MB "
              f"(of which {before:.0f} MB the process and its imports), {faces} faces of 5")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=12, help="scenes per photo size (12 for the README figures)")
    arguments = parser.parse_args()
    # The budget first, while this process is small: the measuring processes are spawned from it.
    budget()
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    compare(arguments.scenes)
