"""Evidence: checked by content and size, stored privately, opened only through a permission-checked view."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from nursery.errors import ServiceError
from staff_conduct import services
from staff_conduct.evidence import MAX_EVIDENCE_BYTES
from staff_conduct.models import Evidence, ImmutableRowError
from tests.staff_conduct.factories import pdf_upload, png_bytes, png_upload


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()

pytestmark = pytest.mark.django_db


def add(world, incident, upload):
    return services.add_evidence(world.deputy, incident=incident, upload=upload, description="The post")


def test_it_stores_a_screenshot_privately_with_its_fingerprint(world, investigating):
    evidence = add(world, investigating, png_upload("Tom's post.png"))
    stored = Path(evidence.file.path)
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT) / "private")
    assert "Tom" not in stored.name and stored.suffix == ".png"
    assert pixels(stored.read_bytes()) == pixels(png_bytes())  # a clean copy of the same picture
    assert (evidence.content_type, evidence.original_name, evidence.uploaded_by) == (
        "image/png", "Tom's post.png", world.deputy)
    import hashlib

    assert evidence.sha256 == hashlib.sha256(png_bytes()).hexdigest()


def test_it_accepts_a_pdf(world, investigating):
    assert add(world, investigating, pdf_upload()).content_type == "application/pdf"


def bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("name, content, message", [
    ("notes.png", b"just some text pretending to be a png", "PNG, JPEG"),
    ("page.pdf", b"<html><script>alert(1)</script></html>", "PNG, JPEG"),
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "PNG, JPEG"),
    ("empty.png", b"", "empty"),
    ("huge.pdf", b"%PDF-1.4\n" + b"0" * MAX_EVIDENCE_BYTES, "at most 10 MB"),
    ("bomb.png", None, "too large"),
    ("icon.bmp", None, "PNG, JPEG"),
])
def test_it_refuses_unsafe_or_oversized_files(world, investigating, name, content, message):
    if name == "bomb.png":
        content = bomb()
    if name == "icon.bmp":
        buffer = io.BytesIO()
        Image.new("RGB", (10, 10)).save(buffer, "BMP")
        content = buffer.getvalue()
    with pytest.raises(ServiceError, match=message):
        add(world, investigating, SimpleUploadedFile(name, content, content_type="image/png"))
    assert not Evidence.objects.exists()


def test_evidence_has_no_public_url_and_cannot_be_deleted(world, investigating, client):
    evidence = add(world, investigating, png_upload())
    with pytest.raises(ValueError, match="no public URL"):
        evidence.file.url  # noqa: B018
    client.force_login(world.deputy)
    assert client.get(f"{settings.MEDIA_URL}private/{evidence.file.name}").status_code == 404
    with pytest.raises(ImmutableRowError):
        evidence.delete()


def test_leadership_opens_evidence_through_the_checked_view(world, investigating, client):
    image = add(world, investigating, png_upload())
    pdf = add(world, investigating, pdf_upload())
    client.force_login(world.leader)
    response = client.get(reverse("staff_conduct:evidence_file", args=[investigating.pk, image.pk]))
    assert response.status_code == 200
    assert pixels(b"".join(response.streaming_content)) == pixels(png_bytes())
    assert response["Content-Type"] == "image/png"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    download = client.get(reverse("staff_conduct:evidence_file", args=[investigating.pk, pdf.pk]))
    assert download["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("actor, status", [("practitioner", 403), ("dsl", 403), ("parent", 403),
                                           ("outsider", 404), ("anonymous", 302)])
def test_nobody_else_opens_evidence(world, investigating, client, actor, status):
    evidence = add(world, investigating, png_upload())
    if world.actor(actor):
        client.force_login(world.actor(actor))
    response = client.get(reverse("staff_conduct:evidence_file", args=[investigating.pk, evidence.pk]))
    assert response.status_code == status


def test_evidence_of_another_incident_is_not_reached_through_this_one(world, investigating, report, client):
    other = report(by=world.practitioner, subject=world.dsl)
    evidence = add(world, other, png_upload())
    client.force_login(world.leader)
    url = reverse("staff_conduct:evidence_file", args=[investigating.pk, evidence.pk])
    assert client.get(url).status_code == 404


def test_the_upload_form_shows_why_a_file_was_refused(world, investigating, client):
    client.force_login(world.deputy)
    response = client.post(reverse("staff_conduct:incident_evidence", args=[investigating.pk]), {
        "evidence-file": SimpleUploadedFile("x.png", b"not an image"), "evidence-description": "",
    })
    assert response.status_code == 400
    assert "PNG, JPEG, WebP or GIF" in response.content.decode()
    assert not Evidence.objects.exists()
