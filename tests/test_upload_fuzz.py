"""Generated files thrown at every upload endpoint: never a 500, and nothing stored when a file is refused."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from consent.models import ConsentDecision, Decision, Scope
from moderation.models import Concern
from posts.models import PostImage
from staff_conduct.models import Evidence
from tests.consent.factories import wordings
from tests.posts.factories import PostFactory
from tests.staff_conduct.factories import pdf_bytes


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(buffer, "JPEG")
    return buffer.getvalue()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(buffer, "PNG")
    return buffer.getvalue()


VALID = [_jpeg(), _png(), pdf_bytes()]


@st.composite
def files(draw) -> bytes:
    """Random bytes, or a real JPEG, PNG or PDF cut short, with bytes flipped, or with junk appended."""
    kind = draw(st.sampled_from(["random", "truncated", "flipped", "appended"]))
    if kind == "random":
        return draw(st.binary(min_size=0, max_size=2048))
    base = draw(st.sampled_from(VALID))
    if kind == "truncated":
        return base[: draw(st.integers(min_value=1, max_value=len(base) - 1))]
    if kind == "appended":
        return base + draw(st.binary(min_size=1, max_size=256))
    data = bytearray(base)
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        data[draw(st.integers(min_value=0, max_value=len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


FUZZ = settings(max_examples=12, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _endpoints(world):
    from tests.staff_conduct.access import _incident

    incident = _incident(world)
    post = PostFactory(nursery=world.nursery, author=world.practitioner)
    wordings(world.nursery)
    return {
        "consent scan": (world.practitioner, reverse("consent:paper", args=[world.child.pk]), "scan",
                         lambda: {"scope": Scope.CLOSED, "decision": Decision.GRANTED, "guardian": world.parent.pk,
                                  "signature": "Grace Okafor", "signed_on": timezone.localdate().isoformat()},
                         ConsentDecision.objects.all),
        "conduct evidence": (world.leader, reverse("staff_conduct:incident_evidence", args=[incident.pk]),
                             "evidence", lambda: {"description": "screenshot"},
                             lambda: Evidence.objects.filter(incident=incident)),
        "concern screenshot": (world.parent, reverse("moderation:concern_add"), "screenshot",
                               lambda: {"description": "A photo of my child on a public page", "where_seen": "x"},
                               Concern.objects.all),
        "post photos": (world.practitioner, reverse("posts:add_photos", args=[post.pk]), "photos", dict,
                        lambda: PostImage.objects.filter(post=post)),
    }


@pytest.mark.parametrize("endpoint", ["consent scan", "conduct evidence", "concern screenshot", "post photos"])
def test_generated_files_never_break_an_upload_and_refusals_store_nothing(endpoint, client, world):
    user, url, field, data, stored = _endpoints(world)[endpoint]
    client.force_login(user)

    @FUZZ
    @given(content=files())
    def throw(content):
        before = stored().count()
        response = client.post(url, {**data(), field: SimpleUploadedFile("upload.bin", content)})
        assert response.status_code < 500, (endpoint, content[:40])
        if stored().count() == before:
            return  # refused: and nothing was kept
        assert response.status_code in (200, 302)
        for name in ("paper_scan", "file", "screenshot", "image"):
            row = stored().latest("pk")
            if getattr(row, name, None):
                getattr(row, name).open("rb").read()  # what was kept is a real, readable file

    throw()
