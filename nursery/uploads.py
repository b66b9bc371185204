"""Uploaded scans and evidence, made safe before they are stored: decoded in full, then re-written clean.

A file is what its bytes say, never its name or the browser's claim. An image is decoded to the last pixel
(a truncated JPEG is refused: ``verify()`` alone reads only the headers), turned upright, and re-encoded
without any metadata: no EXIF (GPS, camera, time), no XMP, no ICC comments. A PDF is refused if anything
in it could run or carry another file (JavaScript, launch actions, embedded files, rich media, XFA forms);
otherwise its pages alone are copied into a new file, without the document's metadata, annotations or
actions. The SHA-256 of the bytes as received is kept on the record as evidence of what was uploaded.
"""

import hashlib
import warnings
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

from nursery.errors import ServiceError

JPEG, PNG, PDF = "jpg", "png", "pdf"
CONTENT_TYPES = {JPEG: "image/jpeg", PNG: "image/png", PDF: "application/pdf"}
PDF_DANGER_KEYS = {"/JS", "/JavaScript", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia", "/XFA", "/Launch"}
PDF_DANGER_VALUES = {"/JavaScript", "/Launch", "/FileAttachment", "/RichMedia", "/GoToE", "/ImportData"}


@dataclass(frozen=True)
class CleanFile:
    data: bytes  # what is stored
    extension: str
    content_type: str
    received_sha256: str  # of the bytes as uploaded


def clean_upload(data: bytes, *, max_pixels: int, what: str, image_formats=("JPEG", "PNG")) -> CleanFile:
    """``data`` as a clean JPEG, PNG or PDF, or a ServiceError saying what is wrong (``what``: "scan"...)."""
    received = hashlib.sha256(data).hexdigest()
    if data.startswith(b"%PDF-"):
        return CleanFile(clean_pdf(data, what=what), PDF, CONTENT_TYPES[PDF], received)
    cleaned, extension = clean_image(data, max_pixels=max_pixels, what=what, formats=image_formats)
    return CleanFile(cleaned, extension, CONTENT_TYPES[extension], received)


def clean_image(data: bytes, *, max_pixels: int, what: str, formats=("JPEG", "PNG")) -> tuple[bytes, str]:
    damaged = ServiceError(f"The {what} is damaged, incomplete or not an image we accept; please try again.")
    too_large = ServiceError(f"The {what} is too large in pixels; please use a lower resolution.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as image:
                if image.format not in formats:
                    raise damaged
                if image.width * image.height > max_pixels:
                    raise too_large
                source_format = image.format
                image.load()  # every pixel: a truncated file fails here
                upright = ImageOps.exif_transpose(image)
    except ServiceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_large from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError, KeyError,
            ZeroDivisionError, MemoryError) as exc:
        raise damaged from exc
    out = BytesIO()
    if source_format == "JPEG":
        upright.convert("RGB").save(out, "JPEG", quality=90, optimize=True)  # no exif=, no icc_profile=
        return out.getvalue(), JPEG
    mode = "RGBA" if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info else "RGB"
    upright.convert(mode).save(out, "PNG", optimize=True)  # pnginfo not passed: no text chunks, no XMP
    return out.getvalue(), PNG


def clean_pdf(data: bytes, *, what: str) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    damaged = ServiceError(f"The PDF {what} is damaged or incomplete; please save or scan it again.")
    if b"%%EOF" not in data[-2048:]:
        raise damaged
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ServiceError(f"The PDF {what} is password-protected; please upload it without a password.")
        if _has_active_content(reader.trailer, set()):
            raise ServiceError(f"The PDF {what} contains JavaScript, actions or attached files, which we do not "
                               "accept. Please print it to a new PDF, or upload a photo or scan of it instead.")
        writer = PdfWriter()
        for page in reader.pages:
            contents = page.get_contents()
            if contents is not None:
                contents.get_data()  # decoded in full: damage shows here
            for key in ("/Annots", "/AA", "/Metadata", "/PieceInfo"):
                page.pop(key, None)
            writer.add_page(page)
        if not writer.pages:
            raise damaged
        out = BytesIO()
        writer.write(out)
    except ServiceError:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            AssertionError, ZeroDivisionError) as exc:
        raise damaged from exc
    return out.getvalue()


def _has_active_content(obj, seen: set) -> bool:
    """Anything in the document that can run or carry a file, found by walking every object reachable."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    if isinstance(obj, IndirectObject):
        key = (obj.idnum, obj.generation)
        if key in seen:
            return False
        seen.add(key)
        obj = obj.get_object()
    if isinstance(obj, DictionaryObject):
        if PDF_DANGER_KEYS & set(obj.keys()):
            return True
        return any(
            (isinstance(value, NameObject) and value in PDF_DANGER_VALUES) or _has_active_content(value, seen)
            for value in obj.values()
        )
    if isinstance(obj, ArrayObject):
        return any(_has_active_content(item, seen) for item in obj)
    return False
