"""Scans of signed paper consent forms: only JPEG, PNG or PDF, recognised by their content, size-limited."""

from django.core.files.base import ContentFile

from nursery.errors import ServiceError
from nursery.uploads import clean_upload

MAX_SCAN_BYTES = 10 * 1024 * 1024
MAX_SCAN_PIXELS = 60_000_000  # a 600 dpi A4 page is about 35 megapixels

SIGNATURES = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png", b"%PDF-": "pdf"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}


def sniff(head: bytes) -> str | None:
    return next((ext for magic, ext in SIGNATURES.items() if head.startswith(magic)), None)


def validated_scan(upload) -> tuple[ContentFile, str, str]:
    """A clean copy of the scan, its true extension and the SHA-256 of what was uploaded, or a ServiceError.

    The name and the browser's content type are ignored: only the bytes decide what a file is. Images are
    decoded in full and re-encoded without metadata; PDFs with JavaScript or attached files are refused
    (``nursery.uploads``).
    """
    if upload is None:
        raise ServiceError("Attach a scan or photo of the signed form.")
    if upload.size > MAX_SCAN_BYTES:
        raise ServiceError(f"The scan is too large: the limit is {MAX_SCAN_BYTES // (1024 * 1024)} MB.")
    data = b"".join(upload.chunks())
    if sniff(data[:8]) is None:
        raise ServiceError("The scan must be a JPEG or PNG image or a PDF document.")
    clean = clean_upload(data, max_pixels=MAX_SCAN_PIXELS, what="scan")
    return ContentFile(clean.data), clean.extension, clean.received_sha256
