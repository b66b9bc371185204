"""Paper consent forms: entered by staff with a validated scan; scans only for leadership, never public."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentDecision, Decision, Method, Scope
from consent.queries import consent_state
from consent.services import grant_consent, record_paper_decision
from consent.signals import consent_withdrawn
from consent.uploads import MAX_SCAN_BYTES
from nursery.errors import ServiceError
from tests.consent.factories import MINIMAL_PDF, paper_decision, png_bytes
from tests.factories import GuardianshipFactory

pytestmark = pytest.mark.django_db
JPEG_HEADER = b"\xff\xd8\xff\xe0"


def upload(data=None, name="form.png"):
    return SimpleUploadedFile(name, png_bytes() if data is None else data, content_type="image/png")


def record(world, **kwargs):
    fields = {"child": world.child, "scope": Scope.CLOSED, "decision": Decision.GRANTED, "guardian": world.parent,
              "signature": "Grace Okafor", "signed_on": timezone.localdate() - timedelta(days=2), "scan": upload()}
    return record_paper_decision(world.practitioner, **{**fields, **kwargs})


def test_staff_record_a_signed_form_into_the_ledger(world, wording):
    decision = record(world)
    assert (decision.method, decision.recorded_by, decision.guardian) == (Method.PAPER, world.practitioner,
                                                                          world.parent)
    assert timezone.localdate(decision.decided_at) == timezone.localdate() - timedelta(days=2)
    assert decision.paper_scan.name.startswith("consent-scans/") and decision.paper_scan.name.endswith(".png")
    assert "form" not in decision.paper_scan.name.rsplit("/", 1)[1], "scan names reveal nothing"
    assert consent_state(world.child, Scope.CLOSED).effective


@pytest.mark.parametrize("data, name", [(MINIMAL_PDF, "form.pdf"), (None, "form.jpg.exe")])
def test_pdf_and_images_are_recognised_by_their_content(world, wording, data, name):
    decision = record(world, scan=upload(data, name))
    assert decision.paper_scan.name.endswith(".pdf" if data else ".png")


@pytest.mark.parametrize("data, message", [
    (b"MZ\x90\x00 not a scan", "JPEG or PNG image or a PDF"),
    (b"<html><script>alert(1)</script></html>", "JPEG or PNG image or a PDF"),
    (JPEG_HEADER + b"garbage that is not a picture", "damaged"),
    (b"%PDF-1.4 cut off", "damaged"),
])
def test_it_refuses_a_scan_that_is_not_what_it_claims(world, wording, data, message):
    with pytest.raises(ServiceError, match=message):
        record(world, scan=upload(data, "form.png"))
    assert not ConsentDecision.objects.exists()


def test_it_refuses_a_scan_that_is_too_large(world, wording):
    big = upload(MINIMAL_PDF + b"0" * MAX_SCAN_BYTES, "form.pdf")
    with pytest.raises(ServiceError, match="too large"):
        record(world, scan=big)


def test_it_refuses_a_decompression_bomb(world, wording):
    with pytest.raises(ServiceError, match="too large in pixels"):
        record(world, scan=upload(png_bytes(size=(9000, 9000))))
    assert not ConsentDecision.objects.exists()


def test_it_refuses_a_guardian_without_parental_responsibility(world, wording):
    granny = GuardianshipFactory(child=world.child, has_parental_responsibility=False).user
    with pytest.raises(ServiceError, match="parental responsibility"):
        record(world, guardian=granny)


def test_it_refuses_a_future_date(world, wording):
    with pytest.raises(ServiceError, match="future"):
        record(world, signed_on=timezone.localdate() + timedelta(days=1))


def test_it_refuses_an_older_form_than_the_guardians_latest_decision(world, wording):
    grant_consent(world.parent, child=world.child, scope=Scope.CLOSED, wording_id=wording[Scope.CLOSED].pk,
                  signature="Grace Okafor", now=timezone.now() - timedelta(days=1))
    with pytest.raises(ServiceError, match="newer decision"):
        record(world, decision=Decision.WITHDRAWN, signed_on=timezone.localdate() - timedelta(days=3))


def test_a_parent_cannot_record_paper_forms(world, wording):
    with pytest.raises(ServiceError, match="staff"):
        record_paper_decision(world.parent, child=world.child, scope=Scope.CLOSED, decision=Decision.GRANTED,
                              guardian=world.parent, signature="Grace Okafor", signed_on=date.today(), scan=upload())


def test_a_paper_withdrawal_fires_the_same_seam(world, wording, django_capture_on_commit_callbacks):
    received = []

    def handler(sender, **kwargs):
        received.append(kwargs)

    record(world)
    consent_withdrawn.connect(handler, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            decision = record(world, decision=Decision.WITHDRAWN, signature="", signed_on=timezone.localdate())
    finally:
        consent_withdrawn.disconnect(handler)
    assert len(received) == 1 and received[0]["decision"] == decision
    assert received[0]["withdrawn_by"] == world.practitioner
    assert not consent_state(world.child, Scope.CLOSED).effective


def test_the_paper_page_records_a_form(client, world, wording):
    client.force_login(world.practitioner)
    url = reverse("consent:paper", args=[world.child.pk])
    assert "Signed by" in client.get(url).content.decode()
    response = client.post(url, {
        "scope": Scope.PUBLIC, "decision": Decision.GRANTED, "guardian": world.parent.pk,
        "signature": "Grace Okafor", "signed_on": timezone.localdate().isoformat(), "scan": upload(),
    })
    assert response.status_code == 302
    assert ConsentDecision.objects.get().scope == Scope.PUBLIC


def test_the_paper_page_shows_what_is_wrong(client, world, wording):
    client.force_login(world.practitioner)
    response = client.post(reverse("consent:paper", args=[world.child.pk]), {
        "scope": Scope.PUBLIC, "decision": Decision.GRANTED, "guardian": world.parent.pk,
        "signature": "Grace Okafor", "signed_on": timezone.localdate().isoformat(),
        "scan": upload(b"#!/bin/sh\necho hi", "form.pdf"),
    })
    assert response.status_code == 400
    assert "JPEG or PNG image or a PDF" in response.content.decode()
    assert not ConsentDecision.objects.exists()


def test_the_paper_start_page_goes_to_the_chosen_child(client, world):
    client.force_login(world.practitioner)
    response = client.get(reverse("consent:paper_start"), {"child": world.child.pk})
    assert response.url == reverse("consent:paper", args=[world.child.pk])


def test_scans_are_served_only_to_leadership_with_safe_headers(client, world):
    decision = paper_decision(world.child, world.parent, world.practitioner)
    url = reverse("consent:scan", args=[decision.pk])
    for user in (world.parent, world.practitioner, world.dsl):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(world.outsider)
    assert client.get(url).status_code == 404
    client.force_login(world.leader)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "sandbox" in response["Content-Security-Policy"] and "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_scans_have_no_public_url(client, world):
    decision = paper_decision(world.child, world.parent, world.practitioner)
    client.force_login(world.leader)
    assert client.get(settings.MEDIA_URL + decision.paper_scan.name).status_code == 404


def test_it_refuses_a_wording_of_the_other_scope(world, wording):
    with pytest.raises(ServiceError, match="wording version printed on the form"):
        record(world, wording=wording[Scope.PUBLIC])
    assert not ConsentDecision.objects.exists()


def test_a_form_on_an_old_wording_is_recorded_as_such(world, wording):
    from tests.consent.factories import wordings

    wordings(world.nursery, version=2)
    decision = record(world, wording=wording[Scope.CLOSED])
    assert decision.wording.version == 1
    assert consent_state(world.child, Scope.CLOSED).state == "wording_changed"


def test_the_name_on_a_paper_form_must_be_the_chosen_parents(client, world, wording):
    client.force_login(world.practitioner)
    response = client.post(reverse("consent:paper", args=[world.child.pk]), {
        "scope": Scope.PUBLIC, "decision": Decision.GRANTED, "guardian": world.parent.pk,
        "signature": "Mickey Mouse", "signed_on": timezone.localdate().isoformat(), "scan": upload(),
    })
    assert response.status_code == 400
    assert "must be the name of the parent or carer chosen (Grace Okafor)" in response.content.decode()
    assert not ConsentDecision.objects.exists()
