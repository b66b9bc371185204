"""Photos made safe: real files, made here with Pillow, go through ``process_upload``."""

import io
import re
import struct

import pillow_heif
import pytest
from PIL import Image, ImageCms, PngImagePlugin

from posts import images
from posts.images import MAX_PIXELS, MAX_UPLOAD_BYTES, UnsafeImage, process_upload
from tests.posts.photos import (
    SECRETS,
    adobe_rgb_profile,
    encode,
    gps_exif,
    jpeg_bytes,
    phone_jpeg_with_gps,
    photo_upload,
    png_declaring,
    red_top_blue_bottom,
)

METADATA_MARKERS = (
    b"Exif\x00\x00", b"http://ns.adobe.com/xap", b"<x:xmpmeta", b"Photoshop 3.0", b"8BIM",
    b"ICC_PROFILE", b"tEXt", b"iTXt", b"zTXt",
)


def opened(content_file) -> Image.Image:
    content_file.seek(0)
    image = Image.open(io.BytesIO(content_file.read()))
    image.load()
    return image


def raw(content_file) -> bytes:
    content_file.seek(0)
    return content_file.read()


def assert_clean(content_file):
    data = raw(content_file)
    for marker in METADATA_MARKERS + SECRETS:
        assert marker not in data, f"{marker!r} survived processing"
    image = opened(content_file)
    assert image.format == "JPEG"
    assert not image.getexif()
    assert not {"exif", "xmp", "icc_profile", "comment", "photoshop"} & image.info.keys()


def close_to(pixel, expected, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def refusal(content: bytes, name="upload.jpg") -> str:
    with pytest.raises(UnsafeImage) as refused:
        process_upload(photo_upload(content, name=name))
    return refused.value.message


# Metadata


def test_it_strips_gps_and_every_other_metadata_block_from_a_phone_jpeg():
    original = phone_jpeg_with_gps()
    source = Image.open(io.BytesIO(original))
    assert source.getexif().get_ifd(0x8825), "the test photo must carry GPS to prove anything"
    assert b"Photoshop 3.0" in original and b"secret comment" in original

    processed = process_upload(photo_upload(original))

    assert_clean(processed.image)
    assert_clean(processed.thumbnail)


def test_it_removes_png_text_chunks():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "SecretPhone")
    info.add_text("Comment", "secret comment", zip=True)
    info.add_itxt("XML:com.adobe.xmp", "secret-xmp-location")
    original = encode(Image.new("RGB", (120, 80), "orange"), "PNG", pnginfo=info)
    assert b"tEXt" in original and b"zTXt" in original and b"iTXt" in original

    processed = process_upload(photo_upload(original, name="drawing.png", content_type="image/png"))

    assert_clean(processed.image)
    assert close_to(opened(processed.image).getpixel((60, 40)), (255, 165, 0))


def test_it_never_keeps_the_original_name_or_bytes():
    original = phone_jpeg_with_gps()
    processed = process_upload(photo_upload(original, name="amara-okafor-birthday.jpg"))

    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", processed.image.name)
    assert re.fullmatch(r"[0-9a-f]{32}-thumb\.jpg", processed.thumbnail.name)
    assert processed.image.name != process_upload(photo_upload(original)).image.name
    assert raw(processed.image) != original


def test_it_drops_data_hidden_after_the_image():
    hidden = b"PK\x03\x04" + b"<script>alert(1)</script>" * 20
    processed = process_upload(photo_upload(jpeg_bytes() + hidden))
    assert b"<script>" not in raw(processed.image)
    assert b"PK\x03\x04" not in raw(processed.image)


# Orientation


@pytest.mark.parametrize(
    ("orientation", "red_at", "blue_at"),
    [
        # Stored: 300 wide, red on top. 6 = turn 90 degrees clockwise to view: red ends on the right.
        (6, (150, 150), (50, 150)),
        # 8 = turn 90 degrees anticlockwise: red ends on the left.
        (8, (50, 150), (150, 150)),
        # 3 = upside down: red ends at the bottom.
        (3, (150, 150), (150, 50)),
    ],
)
def test_it_applies_exif_orientation_before_anything_else(orientation, red_at, blue_at):
    stored = encode(red_top_blue_bottom((300, 200)), "JPEG", quality=95, exif=gps_exif(orientation))

    processed = process_upload(photo_upload(stored))

    picture = opened(processed.image)
    expected_size = (200, 300) if orientation in (6, 8) else (300, 200)
    assert picture.size == expected_size == (processed.width, processed.height)
    assert close_to(picture.getpixel(red_at), (255, 0, 0), tolerance=30)
    assert close_to(picture.getpixel(blue_at), (0, 0, 255), tolerance=30)
    assert not picture.getexif(), "the orientation tag must not be applied a second time by a viewer"


def test_it_turns_a_rotated_heic_exactly_once():
    # pillow-heif stores the EXIF orientation as HEIF rotation and applies it on reading; the
    # photo must not be turned a second time by the EXIF step.
    stored = encode(red_top_blue_bottom((300, 200)), "HEIF", quality=90, exif=gps_exif(6).tobytes())

    picture = opened(process_upload(photo_upload(stored, name="IMG_0002.HEIC")).image)

    assert picture.size == (200, 300)
    assert close_to(picture.getpixel((150, 150)), (255, 0, 0), tolerance=30)
    assert close_to(picture.getpixel((50, 150)), (0, 0, 255), tolerance=30)


# Formats


def test_it_accepts_webp_and_strips_its_exif():
    original = encode(Image.new("RGB", (500, 300), "purple"), "WEBP", quality=90, exif=gps_exif())
    processed = process_upload(photo_upload(original, name="photo.webp", content_type="image/webp"))
    assert_clean(processed.image)
    assert (processed.width, processed.height) == (500, 300)
    assert close_to(opened(processed.image).getpixel((250, 150)), (128, 0, 128))


def test_it_accepts_heic_from_an_iphone():
    original = encode(Image.new("RGB", (640, 480), "teal"), "HEIF", quality=90, exif=gps_exif().tobytes())
    assert pillow_heif.is_supported(original)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825), "the test HEIC must carry GPS"

    processed = process_upload(photo_upload(original, name="IMG_4032.HEIC", content_type="image/heic"))

    assert_clean(processed.image)
    assert (processed.width, processed.height) == (640, 480)
    assert close_to(opened(processed.image).getpixel((320, 240)), (0, 128, 128))


def test_it_decides_the_format_from_the_content_not_the_name():
    png = encode(Image.new("RGB", (50, 40), "navy"), "PNG")
    processed = process_upload(photo_upload(png, name="holiday.txt", content_type="text/plain"))
    assert opened(processed.image).format == "JPEG"

    message = refusal(b"Hello, I am not a photo at all\n" * 10, name="photo.jpg")
    assert "is not a photo we can accept" in message and "HEIC" in message


# Colour


def test_it_converts_adobe_rgb_photos_to_srgb_and_drops_the_profile():
    profile = adobe_rgb_profile()
    adobe_colour = (60, 160, 60)
    original = encode(Image.new("RGB", (200, 100), adobe_colour), "JPEG", quality=100, icc_profile=profile)

    processed = process_upload(photo_upload(original))

    srgb = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), adobe_colour), ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.createProfile("sRGB"), outputMode="RGB",
    ).getpixel((0, 0))
    assert not close_to(srgb, adobe_colour, tolerance=20), "the colours must differ for this test to mean anything"
    picture = opened(processed.image)
    assert close_to(picture.getpixel((100, 50)), srgb, tolerance=6)
    assert "icc_profile" not in picture.info
    assert_clean(processed.image)


def test_it_converts_cmyk_jpegs_to_rgb():
    original = encode(Image.new("CMYK", (100, 100), (0, 255, 255, 0)), "JPEG", quality=100)
    assert Image.open(io.BytesIO(original)).mode == "CMYK"

    picture = opened(process_upload(photo_upload(original)).image)

    assert picture.mode == "RGB"
    assert close_to(picture.getpixel((50, 50)), (255, 0, 0))


def test_it_flattens_transparency_on_white():
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (50, 0, 100, 100))
    processed = process_upload(photo_upload(encode(image, "PNG"), name="logo.png"))

    picture = opened(processed.image)
    assert picture.mode == "RGB"
    assert close_to(picture.getpixel((10, 50)), (255, 255, 255))
    assert close_to(picture.getpixel((90, 50)), (200, 0, 0))


def test_it_keeps_sixteen_bit_greys_grey():
    image = Image.new("I;16", (60, 60), 32768)
    picture = opened(process_upload(photo_upload(encode(image, "PNG"), name="scan.png")).image)
    assert close_to(picture.getpixel((30, 30)), (128, 128, 128), tolerance=3)


# Sizes


def test_it_downscales_the_longest_side_to_2048_and_makes_a_400_pixel_thumbnail():
    processed = process_upload(photo_upload(jpeg_bytes(size=(4032, 3024))))

    assert (processed.width, processed.height) == (2048, 1536)
    assert opened(processed.image).size == (2048, 1536)
    assert opened(processed.thumbnail).size == (400, 300)


def test_it_keeps_the_whole_of_a_tall_photo():
    processed = process_upload(photo_upload(jpeg_bytes(size=(1000, 5000))))
    assert (processed.width, processed.height) == (410, 2048)
    assert opened(processed.thumbnail).size == (80, 400)


def test_it_never_enlarges_a_small_photo():
    processed = process_upload(photo_upload(jpeg_bytes(size=(300, 200))))
    assert (processed.width, processed.height) == (300, 200)
    assert opened(processed.thumbnail).size == (300, 200)


def test_it_writes_progressive_jpegs():
    processed = process_upload(photo_upload(jpeg_bytes(size=(800, 600))))
    assert opened(processed.image).info.get("progressive") or opened(processed.image).info.get("progression")


# Refusals


def test_it_refuses_files_over_25_mb_before_decoding(monkeypatch):
    def must_not_decode(*args, **kwargs):
        raise AssertionError("an oversized upload must be refused before it is decoded")

    monkeypatch.setattr(images.Image, "open", must_not_decode)
    padding = b"\x00" * (MAX_UPLOAD_BYTES + 1 - len(jpeg_bytes()))

    message = refusal(jpeg_bytes() + padding, name="huge.jpg")

    assert "“huge.jpg” is 25.0 MB; photos can be at most 25 MB" in message


def test_it_accepts_a_file_of_exactly_25_mb():
    original = jpeg_bytes()
    processed = process_upload(photo_upload(original + b"\x00" * (MAX_UPLOAD_BYTES - len(original))))
    assert processed.width == 640


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (100_000, 100_000),  # far past Pillow's hard limit: DecompressionBombError
        (8_000, 7_000),  # 56 MP: past our limit, where Pillow on its own would only warn
    ],
)
def test_it_refuses_decompression_bombs(width, height):
    bomb = png_declaring(width, height)
    assert len(bomb) < 200

    message = refusal(bomb, name="bomb.png")

    assert "too many pixels" in message and f"{MAX_PIXELS // 1_000_000} megapixels" in message


def test_pillows_own_bomb_warning_is_an_error_too(monkeypatch):
    # Lift our own explicit check to show that Pillow's warning alone also refuses the upload.
    monkeypatch.setattr(images, "MAX_PIXELS", 10**12)
    message = refusal(png_declaring(8_000, 7_000), name="bomb.png")
    assert "too many pixels" in message


def test_the_pixel_limit_is_set_explicitly():
    assert Image.MAX_IMAGE_PIXELS == MAX_PIXELS == 50_000_000


def test_it_refuses_a_text_file():
    assert "is not a photo we can accept" in refusal(b"name,surname\nAmara,Okafor\n", name="children.csv")


def test_it_refuses_a_pdf():
    pdf = encode(Image.new("RGB", (100, 100), "white"), "PDF")
    assert pdf.startswith(b"%PDF")
    assert "is not a photo we can accept" in refusal(pdf, name="letter.pdf")


def test_it_refuses_an_svg():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert "is not a photo we can accept" in refusal(svg, name="drawing.svg")


@pytest.mark.parametrize("format", ["GIF", "TIFF", "BMP"])
def test_it_refuses_formats_parents_do_not_need(format):
    assert "is not a photo we can accept" in refusal(encode(Image.new("RGB", (40, 40), "red"), format))


@pytest.mark.parametrize("format", ["PNG", "WEBP"])
def test_it_refuses_animations(format):
    frames = [Image.new("RGB", (40, 40), colour) for colour in ("red", "blue")]
    animation = encode(frames[0], format, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert "is an animation" in refusal(animation)


def test_it_refuses_a_truncated_jpeg():
    original = encode(red_top_blue_bottom((800, 600)), "JPEG", quality=95)
    assert "seems to be damaged or incomplete" in refusal(original[: len(original) // 2], name="cut.jpg")


def test_it_refuses_a_png_with_a_broken_checksum():
    # The pixel data itself is intact, so only verification (not decoding) can notice.
    original = bytearray(encode(red_top_blue_bottom((80, 60)), "PNG"))
    idat = original.index(b"IDAT")
    (length,) = struct.unpack(">I", original[idat - 4:idat])
    original[idat + 4 + length] ^= 0xFF
    assert "seems to be damaged or incomplete" in refusal(bytes(original), name="broken.png")


def test_it_refuses_a_file_that_only_starts_like_a_jpeg():
    polyglot = jpeg_bytes()[:200] + b"<html><script>alert(1)</script></html>"
    assert "seems to be damaged or incomplete" in refusal(polyglot)


def test_it_refuses_an_empty_file():
    assert "is empty" in refusal(b"", name="photo.jpg")
