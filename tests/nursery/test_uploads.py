"""Scans and evidence are decoded in full and stored as clean copies; what could run or leak is refused."""

import io

import pytest
from PIL import Image
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from nursery.errors import ServiceError
from nursery.uploads import clean_upload
from tests.staff_conduct.factories import pdf_bytes


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), "red")
    exif = Image.Exif()
    exif[0x0110] = "Secret Phone Model"  # camera model
    exif[0x8825] = {1: "N", 2: (53.0, 48.0, 0.0), 3: "W", 4: (1.0, 32.0, 0.0)}  # GPS: Leeds
    exif[0x0112] = 6  # taken on its side
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def png_with_text() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("XML:com.adobe.xmp", "<x:xmpmeta>Location: 12 Orchard Lane</x:xmpmeta>")
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "blue").save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def clean(data, **kwargs):
    return clean_upload(data, max_pixels=10_000_000, what="scan", **kwargs)


def test_a_photo_loses_its_exif_and_gps_and_is_turned_upright():
    original = jpeg_with_gps()
    result = clean(original)
    assert result.extension == "jpg" and result.content_type == "image/jpeg"
    assert b"Secret Phone Model" in original and b"Secret Phone Model" not in result.data
    with Image.open(io.BytesIO(result.data)) as image:
        assert not image.getexif() and (image.width, image.height) == (48, 64)
    import hashlib

    assert result.received_sha256 == hashlib.sha256(original).hexdigest()


def test_a_png_loses_its_text_chunks_and_xmp():
    result = clean(png_with_text())
    assert b"Orchard Lane" not in result.data and result.extension == "png"


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9])
def test_a_truncated_jpeg_is_refused(cut):
    data = jpeg_with_gps()
    with pytest.raises(ServiceError, match="damaged, incomplete"):
        clean(data[: int(len(data) * cut)])


def test_a_decompression_bomb_is_refused():
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, "PNG")
    with pytest.raises(ServiceError, match="too large in pixels"):
        clean(buffer.getvalue())


def test_a_plain_pdf_is_copied_page_by_page_without_its_metadata():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.add_metadata({"/Author": "Grace Okafor", "/Title": "Consent"})
    buffer = io.BytesIO()
    writer.write(buffer)
    result = clean(buffer.getvalue())
    assert result.extension == "pdf" and b"Grace Okafor" not in result.data
    assert len(PdfReader(io.BytesIO(result.data)).pages) == 1


def javascript_action():
    return DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                             NameObject("/JS"): TextStringObject("app.alert('hi')")})


@pytest.mark.parametrize("catalog", [
    {"OpenAction": javascript_action()},
    {"Names": DictionaryObject({NameObject("/JavaScript"): DictionaryObject()})},
    {"Names": DictionaryObject({NameObject("/EmbeddedFiles"): DictionaryObject()})},
    {"AcroForm": DictionaryObject({NameObject("/XFA"): DictionaryObject()})},
])
def test_a_pdf_that_can_run_something_or_carries_a_file_is_refused(catalog):
    with pytest.raises(ServiceError, match="JavaScript, actions or attached files"):
        clean(pdf_bytes(**catalog))


@pytest.mark.parametrize("data", [b"%PDF-1.4\n%%EOF", pdf_bytes()[:-40], pdf_bytes()[:200] + b"\n%%EOF"])
def test_a_damaged_pdf_is_refused(data):
    with pytest.raises(ServiceError):
        clean(data)
