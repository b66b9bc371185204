"""Evidence uploads are checked by what they contain, not by their name or the browser's claim."""

import hashlib
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from nursery.errors import ServiceError

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    size: int
    sha256: str


def check_evidence(upload) -> CheckedFile:
    """A screenshot (PNG, JPEG, WebP, GIF) or a PDF of at most 10 MB, or ServiceError saying why not."""
    size = upload.size or 0
    if size == 0:
        raise ServiceError("The file is empty.")
    if size > MAX_EVIDENCE_BYTES:
        raise ServiceError(f"The file is {size / 1024 / 1024:.1f} MB; evidence files can be at most 10 MB.")
    upload.seek(0)
    head = upload.read(1024)
    upload.seek(0)
    content_type = "application/pdf" if head.startswith(b"%PDF-") else _image_type(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(content_type=content_type, size=size, sha256=digest.hexdigest())


def _image_type(upload) -> str:
    refusal = "Evidence must be a screenshot or photo (PNG, JPEG, WebP or GIF) or a PDF."
    try:
        with warnings.catch_warnings():
            # A decompression bomb is refused outright, not merely warned about.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                if image.format not in IMAGE_TYPES:
                    raise ServiceError(refusal)
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise ServiceError("The image is too large to be a screenshot (more than 40 megapixels).")
                image.verify()
                return IMAGE_TYPES[image.format]
    except ServiceError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
            SyntaxError, ValueError) as exc:
        raise ServiceError(refusal) from exc
    finally:
        upload.seek(0)
