"""How fast is an upload made safe, and how much memory does it take?

Makes 12-megapixel phone photos (4032 x 3024, textured so they compress like real ones: JPEG with GPS
EXIF and a rotation, and HEIC as iPhones send them), then runs ``posts.images.process_upload`` on each
and prints photos per second and the process's peak memory.

    .venv/bin/python bench/image_processing.py [--count 10] [--width 4032 --height 3024]

The photos are made in a separate process, so the peak memory printed is that of processing alone.
"""

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_photos(directory: str, count: int, size: tuple[int, int]) -> None:
    import pillow_heif
    from PIL import ExifTags, Image

    pillow_heif.register_heif_opener()
    for index in range(count):
        # Soft noise, enlarged, over colour gradients: compresses to a few MB, like a real photo.
        texture = Image.effect_noise((size[0] // 4, size[1] // 4), 40 + index).resize(size, Image.Resampling.BICUBIC)
        gradient = Image.linear_gradient("L").resize(size)
        photo = Image.merge("RGB", (gradient, texture, gradient.transpose(Image.Transpose.ROTATE_180)))
        exif = Image.Exif()
        exif[ExifTags.Base.Make] = "Phone"
        exif[ExifTags.Base.Orientation] = 6
        exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (53.0, 48.0, 30.5)
        photo.save(Path(directory) / f"photo{index}.jpg", "JPEG", quality=92, exif=exif)
        photo.save(Path(directory) / f"photo{index}.heic", "HEIF", quality=80, exif=exif.tobytes())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(files: list[Path]) -> tuple[float, float]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from posts.images import process_upload

    uploads = [SimpleUploadedFile(path.name, path.read_bytes()) for path in files]
    started = time.perf_counter()
    for upload in uploads:
        processed = process_upload(upload)
        assert max(processed.width, processed.height) == 2048
    elapsed = time.perf_counter() - started
    return len(uploads) / elapsed, elapsed / len(uploads) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10, help="photos per format (default 10)")
    parser.add_argument("--width", type=int, default=4032)
    parser.add_argument("--height", type=int, default=3024)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        maker = multiprocessing.get_context("spawn").Process(
            target=make_photos, args=(directory, options.count, (options.width, options.height))
        )
        maker.start()
        maker.join()
        if maker.exitcode:
            sys.exit("could not make the test photos")

        import django  # noqa: F401  (imported before measuring, so the baseline includes it)
        from PIL import Image  # noqa: F401

        import posts.images  # noqa: F401

        baseline = current_rss_mb()
        megapixels = options.width * options.height / 1_000_000
        print(f"{options.count} photos per format, {options.width} x {options.height} ({megapixels:.1f} MP)")
        for suffix, label in ((".jpg", "JPEG with GPS EXIF, rotated"), (".heic", "HEIC (iPhone)")):
            files = sorted(Path(directory).glob(f"*{suffix}"))
            average_mb = sum(path.stat().st_size for path in files) / len(files) / (1024 * 1024)
            per_second, ms_each = run(files)
            print(f"  {label:<28} {average_mb:5.1f} MB each: {per_second:5.2f} photos/s ({ms_each:6.0f} ms each)")
        print(f"Peak memory: {peak_rss_mb():.0f} MB resident ({baseline:.0f} MB before processing; "
              f"{peak_rss_mb() - baseline:.0f} MB for processing, uploads held in memory included)")


if __name__ == "__main__":
    main()
