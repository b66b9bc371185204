"""Evidence uploads are checked by what they contain, not by their name or the browser's claim, and stored as
a clean copy (``nursery.uploads``): images decoded in full and re-encoded without metadata, PDFs refused
when they carry JavaScript or files. The SHA-256 kept on the record is that of the file as received."""

from dataclasses import dataclass

from nursery.errors import ServiceError
from nursery.uploads import clean_upload

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    size: int  # of the clean copy stored
    sha256: str  # of the file as received
    data: bytes
    extension: str


def check_evidence(upload) -> CheckedFile:
    """A screenshot (PNG, JPEG, WebP, GIF) or a PDF of at most 10 MB, made clean, or ServiceError saying why not."""
    size = upload.size or 0
    if size == 0:
        raise ServiceError("The file is empty.")
    if size > MAX_EVIDENCE_BYTES:
        raise ServiceError(f"The file is {size / 1024 / 1024:.1f} MB; evidence files can be at most 10 MB.")
    upload.seek(0)
    data = b"".join(upload.chunks())
    upload.seek(0)
    if not data.startswith(b"%PDF-") and not _looks_like_an_image(data):
        raise ServiceError("Evidence must be a screenshot or photo (PNG, JPEG, WebP or GIF) or a PDF.")
    clean = clean_upload(data, max_pixels=MAX_IMAGE_PIXELS, what="evidence file", image_formats=IMAGE_FORMATS)
    return CheckedFile(content_type=clean.content_type, size=len(clean.data), sha256=clean.received_sha256,
                       data=clean.data, extension=clean.extension)


def _looks_like_an_image(data: bytes) -> bool:
    return data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff" or data[:6] in (b"GIF87a", b"GIF89a") \
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
