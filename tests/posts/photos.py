"""Real image files made with Pillow for tests: photos with GPS, rotated photos, odd colour spaces.

Shared so that view and browser tests can upload a genuine photo too (``photo_upload()``).
"""

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

# Strings planted in metadata; none may survive processing.
SECRETS = (b"SecretPhone", b"SerialNo-1234", b"secret-xmp-location", b"secret comment", b"secret-iptc-caption")
D50 = (0.9642, 1.0, 0.8249)
# Adobe RGB (1998) primaries, adapted to D50 as ICC profiles store them, and its 2.2 gamma.
ADOBE_RGB_PRIMARIES = ((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446))


def photo_upload(content: bytes | None = None, name: str = "IMG_0001.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, content if content is not None else jpeg_bytes(), content_type=content_type)


def encode(image: Image.Image, format: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **params)
    return buffer.getvalue()


def jpeg_bytes(size=(640, 480), colour="seagreen", **params) -> bytes:
    return encode(Image.new("RGB", size, colour), "JPEG", quality=95, **params)


def gps_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: make, serial number, orientation and where the photo was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretPhone"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.DateTime] = "2026:11:25 10:30:00"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = "SerialNo-1234"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (53.0, 48.0, 30.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (1.0, 33.0, 12.25)
    return exif


def with_iptc(jpeg: bytes) -> bytes:
    """Insert an APP13 Photoshop/IPTC block (caption) right after the JPEG's start marker."""
    caption = b"secret-iptc-caption"
    record = b"\x1c\x02\x78" + struct.pack(">H", len(caption)) + caption
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(record)) + record
    payload = b"Photoshop 3.0\x00" + resource
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def phone_jpeg_with_gps(size=(640, 480)) -> bytes:
    image = Image.new("RGB", size, "seagreen")
    return with_iptc(
        encode(image, "JPEG", quality=95, exif=gps_exif(), comment=b"secret comment",
               xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp-location</x:xmpmeta>')
    )


def red_top_blue_bottom(size=(300, 200)) -> Image.Image:
    width, height = size
    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, width, height // 2))
    return image


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels: a decompression bomb's calling card."""
    png = encode(Image.new("RGB", (8, 8), "white"), "PNG")
    ihdr_start = 8 + 8  # signature, then the IHDR chunk's length and type
    header = struct.pack(">II", width, height) + png[ihdr_start + 8:ihdr_start + 13]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return png[:ihdr_start] + header + crc + png[ihdr_start + 17:]


def adobe_rgb_profile() -> bytes:
    """A minimal ICC v2 matrix/TRC profile for Adobe RGB (1998); no profile files ship with the OS here."""

    def fixed(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(values) -> bytes:
        return b"XYZ \x00\x00\x00\x00" + b"".join(fixed(v) for v in values)

    description = b"Adobe RGB (1998) test profile\x00"
    tags = [
        (b"desc", b"desc\x00\x00\x00\x00" + struct.pack(">I", len(description)) + description
         + b"\x00" * 8 + b"\x00" * 3 + b"\x00" * 67),
        (b"cprt", b"text\x00\x00\x00\x00" + b"No copyright, test data\x00"),
        (b"wtpt", xyz(D50)),
        (b"rXYZ", xyz(ADOBE_RGB_PRIMARIES[0])),
        (b"gXYZ", xyz(ADOBE_RGB_PRIMARIES[1])),
        (b"bXYZ", xyz(ADOBE_RGB_PRIMARIES[2])),
    ]
    gamma = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\x00\x00"
    tags += [(b"rTRC", gamma), (b"gTRC", gamma), (b"bTRC", gamma)]

    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += b"\x00" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ "
        + struct.pack(">6H", 2026, 11, 25, 0, 0, 0) + b"acsp" + b"\x00" * 24
        + struct.pack(">I", 0) + b"".join(fixed(v) for v in D50) + b"\x00" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data
