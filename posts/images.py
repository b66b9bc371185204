"""Making an uploaded photo safe to keep and to share.

Every upload is treated as hostile until proven otherwise: its type is decided by its content (never
by its name or the browser's content type), it must decode completely, and what we keep is a new
JPEG re-encoded from pixels only. Nothing of the original survives: no EXIF (so no GPS position, no
camera serial, no capture time), no XMP, IPTC, comments, PNG text chunks or colour profiles, and
none of the bytes a polyglot file might hide. The original upload is never stored.
"""

import io
import logging
import secrets
import struct
import warnings
from dataclasses import dataclass

import pillow_heif
from django.core.files.base import ContentFile
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from nursery.errors import ServiceError

pillow_heif.register_heif_opener()
logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
# Phones take 12-48 megapixel photos; 50 MP admits all of them and keeps a decoded image under about
# 200 MB of memory. Pillow's own check reads this global, so every image opened in the app shares it.
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
MAX_SIDE = 2048
THUMBNAIL_SIDE = 400
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 80

# Pillow format names, decided from the file's content; HEIF covers the iPhone's HEIC. GIF, SVG, TIFF,
# AVIF, BMP and the rest are refused: parents do not need them and each extra decoder is attack surface.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
# These hold several pictures by design and we keep the primary one: MPO is how Pillow's JPEG decoder
# reports phone JPEGs that carry extra pictures (depth maps, previews). For PNG (APNG) and WebP several
# frames mean an animation, which we refuse rather than silently freeze.
MULTI_PICTURE_FORMATS = {"MPO", "HEIF"}

SRGB = ImageCms.createProfile("sRGB")
WHITE = (255, 255, 255)

PLEASE_RETRY = "Please choose the photo again, or take a screenshot of it and upload that."


class UnsafeImage(ServiceError):
    """An upload we refuse to keep. The message says why, in words a parent or practitioner can act on."""


@dataclass(frozen=True)
class ProcessedImage:
    image: ContentFile
    thumbnail: ContentFile
    width: int
    height: int


def process_upload(uploaded_file) -> ProcessedImage:
    """Verify, decode and re-encode an upload; raise ``UnsafeImage`` for anything we will not keep."""
    label = _label(uploaded_file)
    size = _size_of(uploaded_file)
    if size > MAX_UPLOAD_BYTES:
        raise UnsafeImage(
            f"{label} is {size / (1024 * 1024):.1f} MB; photos can be at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. "
            "Please upload a smaller copy (most phones offer one when you share a photo)."
        )
    if size == 0:
        raise UnsafeImage(f"{label} is empty. {PLEASE_RETRY}")

    # A decompression-bomb warning is a refusal, not a note in a log.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            picture = _decode(uploaded_file, label)
        except UnsafeImage:
            raise
        except UnidentifiedImageError as error:
            raise UnsafeImage(
                f"{label} is not a photo we can accept. Please upload a JPEG, PNG, WebP or HEIC (iPhone) photo."
            ) from error
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise _too_many_pixels(label) from error
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error) as error:
            # Pillow signals a damaged file with any of these, depending on where the decoder gave up.
            logger.info("Refused a damaged upload", exc_info=True)
            raise UnsafeImage(f"{label} seems to be damaged or incomplete. {PLEASE_RETRY}") from error

    name = secrets.token_hex(16)
    thumbnail = picture.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return ProcessedImage(
        image=ContentFile(_jpeg(picture, JPEG_QUALITY), name=f"{name}.jpg"),
        thumbnail=ContentFile(_jpeg(thumbnail, THUMBNAIL_QUALITY), name=f"{name}-thumb.jpg"),
        width=picture.width,
        height=picture.height,
    )


def _decode(uploaded_file, label: str) -> Image.Image:
    """Return the photo as clean sRGB pixels, upright, at most MAX_SIDE on its longest side."""
    # verify() reads the whole structure (PNG checksums, chunk layout) but leaves the image unusable,
    # so the file is opened a second time to decode the pixels.
    with _open(uploaded_file, label) as image:
        image.verify()
    with _open(uploaded_file, label) as image:
        # For JPEG, let the decoder scale down by 2/4/8 while decoding: a 48 MP photo then costs a
        # quarter of the memory and time. It never goes below the size we keep.
        image.draft(None, (MAX_SIDE, MAX_SIDE))
        image.load()
        # In place, here and below, so that a 12 MP photo is not held in memory two or three times.
        ImageOps.exif_transpose(image, in_place=True)
        picture = _to_srgb(image)
        picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        return _flatten(picture)


def _open(uploaded_file, label: str) -> ImageFile.ImageFile:
    uploaded_file.seek(0)
    image = Image.open(uploaded_file, formats=ACCEPTED_FORMATS)
    if image.width * image.height > MAX_PIXELS:
        image.close()
        raise _too_many_pixels(label)
    if getattr(image, "is_animated", False) and image.format not in MULTI_PICTURE_FORMATS:
        image.close()
        raise UnsafeImage(f"{label} is an animation. Please choose a still photo.")
    return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert to 8-bit RGB, or RGBA when there is transparency, in the sRGB colour space."""
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        # 16-bit greyscale (some PNGs): scale to 8 bits, as a plain conversion would clip it to white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )
    icc = image.info.get("icc_profile")
    alpha = image.convert("RGBA").getchannel("A") if has_alpha else None
    rgb = _profiled_to_srgb(image, icc) if icc else None
    if rgb is None:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
    if alpha is not None:
        rgb.putalpha(alpha)
    return rgb


def _profiled_to_srgb(image: Image.Image, icc: bytes) -> Image.Image | None:
    """Map colours defined by an embedded profile (Adobe RGB, the iPhone's Display P3, CMYK press
    profiles) to sRGB, which every browser and social platform assumes. None if the profile is unusable:
    the pixels are still safe to keep, only their colours may be slightly off, which beats refusing."""
    source_mode = {"L": "L", "LA": "L", "La": "L", "CMYK": "CMYK"}.get(image.mode, "RGB")
    source = image if image.mode == source_mode else image.convert(source_mode)
    try:
        return ImageCms.profileToProfile(source, ImageCms.ImageCmsProfile(io.BytesIO(icc)), SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        logger.info("Ignoring an unusable colour profile", exc_info=True)
        return None


def _flatten(image: Image.Image) -> Image.Image:
    """Paste the pixels onto a fresh canvas: nothing from the original's ``info`` can come along.

    Transparent images are flattened on white and kept as JPEG with everything else. Facebook and
    Instagram, where nursery posts go, do not keep transparency (Instagram turns it black), so what
    staff and leadership see when they approve is exactly what will be posted; and one output format
    keeps storage, thumbnails and size limits simple. White suits logos and posters, the usual PNGs.
    """
    canvas = Image.new("RGB", image.size, WHITE)
    canvas.paste(image, mask=image.getchannel("A") if image.mode == "RGBA" else None)
    return canvas


def clean_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    """``image`` as a JPEG made from its pixels alone: no EXIF, GPS, XMP, comment or colour profile, whatever
    ``image.info`` carries (the blurred copies of posts/blur.py go out through this too)."""
    return _jpeg(_flatten(image), quality)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, progressive=True, optimize=True)
    return buffer.getvalue()


def _size_of(uploaded_file) -> int:
    size = getattr(uploaded_file, "size", None)
    if size is None:
        uploaded_file.seek(0, io.SEEK_END)
        size = uploaded_file.tell()
    return size


def _label(uploaded_file) -> str:
    name = getattr(uploaded_file, "name", "") or ""
    return f"“{name.rsplit('/', 1)[-1]}”" if name else "This file"


def _too_many_pixels(label: str) -> UnsafeImage:
    return UnsafeImage(
        f"{label} has too many pixels to process safely (the limit is {MAX_PIXELS // 1_000_000} megapixels). "
        "Please upload a smaller copy (most phones offer one when you share a photo)."
    )
