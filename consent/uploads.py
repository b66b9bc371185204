"""Scans of signed paper consent forms: only JPEG, PNG or PDF, recognised by their content, size-limited."""

import warnings
from io import BytesIO

from django.core.files.base import ContentFile
from PIL import Image, UnidentifiedImageError

from nursery.errors import ServiceError

MAX_SCAN_BYTES = 10 * 1024 * 1024
MAX_SCAN_PIXELS = 60_000_000  # a 600 dpi A4 page is about 35 megapixels

SIGNATURES = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png", b"%PDF-": "pdf"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}


def sniff(head: bytes) -> str | None:
    return next((ext for magic, ext in SIGNATURES.items() if head.startswith(magic)), None)


def validated_scan(upload) -> tuple[ContentFile, str]:
    """The upload's bytes and its true extension, or a ServiceError saying what is wrong with it.

    The name and the browser's content type are ignored: only the bytes decide what a file is.
    """
    if upload is None:
        raise ServiceError("Attach a scan or photo of the signed form.")
    if upload.size > MAX_SCAN_BYTES:
        raise ServiceError(f"The scan is too large: the limit is {MAX_SCAN_BYTES // (1024 * 1024)} MB.")
    data = b"".join(upload.chunks())
    extension = sniff(data[:8])
    if extension is None:
        raise ServiceError("The scan must be a JPEG or PNG image or a PDF document.")
    if extension == "pdf":
        if b"%%EOF" not in data[-2048:]:
            raise ServiceError("The PDF is damaged or incomplete; please scan the form again.")
    else:
        _check_image(data)
    return ContentFile(data), extension


def _check_image(data: bytes) -> None:
    too_large = ServiceError("The image is too large in pixels; please scan at a lower resolution.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as image:
                if image.width * image.height > MAX_SCAN_PIXELS:
                    raise too_large
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_large from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ServiceError("The image is damaged or not really an image; please scan the form again.") from exc
