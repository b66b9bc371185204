"""A subject access ZIP holds what the policy says it holds, for a parent and for staff, and nothing else."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentRequest, Decision, Method
from nursery.models import Notification
from retention import services
from retention.models import SubjectAccessRequest
from tests.factories import ConsentDecisionFactory, GuardianshipFactory, UserFactory
from tests.retention.factories import notification, raised_concern
from tests.staff_conduct.factories import AcknowledgementFactory, png_bytes, policy

pytestmark = pytest.mark.django_db


def _request(world, subject, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sar = services.request_subject_access(world.leader, nursery=world.nursery, subject=subject,
                                              received_on=timezone.localdate(), notes="By email; ID seen")
    sar.refresh_from_db()
    return sar


def _open(sar) -> dict:
    with sar.file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    return {name: archive.read(name) for name in archive.namelist()}


def _json(files, name):
    return json.loads(files[name])


@pytest.fixture
def parents_records(world):
    """The parent's own decisions (one on paper with a scan), the other carer's, and what was sent to them."""
    paper = ConsentDecisionFactory.build(child=world.child, guardian=world.parent, method=Method.PAPER,
                                         recorded_by=world.practitioner, signature="Grace Okafor")
    paper.paper_scan.save("scan.png", ContentFile(png_bytes()), save=False)
    paper.save()
    father = GuardianshipFactory(child=world.child, relationship="father",
                                 user=UserFactory(first_name="Kwame", last_name="Okafor")).user
    ConsentDecisionFactory(child=world.child, guardian=father, decision=Decision.WITHDRAWN, signature="",
                           ip_address="203.0.113.9", user_agent="Kwame's phone")
    ConsentRequest.objects.create(nursery=world.nursery, child=world.child, scope="public", kind="first_ask",
                                  recipient=world.parent, cycle="c", sent_at=timezone.now())
    notification(world.parent, nursery=world.nursery, at=timezone.now(), subject="Photo consent recorded")
    notification(world.parent, nursery=world.other_nursery, at=timezone.now(), subject="From another nursery")
    notification(father, nursery=world.nursery, at=timezone.now(), subject="For the father")
    raised_concern(world)
    AcknowledgementFactory(version=policy(world.nursery, kind="parents"), nursery=world.nursery, user=world.parent)
    return {"paper": paper, "father": father}


def test_a_parents_zip_holds_their_data_and_their_childs_consent_records(
    world, parents_records, django_capture_on_commit_callbacks
):
    sar = _request(world, world.parent, django_capture_on_commit_callbacks)
    assert sar.status == SubjectAccessRequest.Status.READY and sar.size > 0 and len(sar.sha256) == 64
    files = _open(sar)
    assert {"README.txt", "account.json", "memberships.json", "guardianships.json", "consent_decisions.json",
            "children_consent.json", "consent_requests.json", "notifications.json", "concerns.json",
            "acknowledgements.json", "invitations.json"} <= set(files)
    assert _json(files, "account.json")["username"] == "parent"
    assert _json(files, "memberships.json") == [{"nursery": "Kids Count", "role": "Parent / carer"}]
    assert _json(files, "guardianships.json")[0]["child"] == "Amara Okafor"

    (decision,) = _json(files, "consent_decisions.json")
    paper = parents_records["paper"]
    assert decision["wording"] == paper.wording.text and decision["signature"] == "Grace Okafor"
    assert files[decision["scan"]] == png_bytes()

    children = _json(files, "children_consent.json")
    assert {c["decided_by"] for c in children} == {"you", "another carer (father)"}
    everything = b"".join(files.values()).decode(errors="ignore")
    assert "Kwame" not in everything and "203.0.113.9" not in everything  # the other carer's data stays out

    assert [n["subject"] for n in _json(files, "notifications.json")] == ["Photo consent recorded"]
    (concern,) = _json(files, "concerns.json")
    assert concern["status"] == "Received" and files[concern["screenshot"]] == png_bytes()
    assert _json(files, "acknowledgements.json")[0]["signature"]
    assert _json(files, "consent_requests.json")[0]["kind"] == "Asked for a first decision"


def test_a_staff_members_zip_holds_their_acknowledgements_and_reports(world, django_capture_on_commit_callbacks):
    AcknowledgementFactory(version=policy(world.nursery), nursery=world.nursery, user=world.practitioner)
    from moderation.models import Concern

    Concern.objects.create(nursery=world.nursery, raised_by=world.practitioner, reporter="staff",
                           description="A parent's comment named a child", raised_at=timezone.now())
    files = _open(_request(world, world.practitioner, django_capture_on_commit_callbacks))
    assert _json(files, "memberships.json") == [{"nursery": "Kids Count", "role": "Practitioner"}]
    assert _json(files, "guardianships.json") == [] and _json(files, "children_consent.json") == []
    assert _json(files, "acknowledgements.json")[0]["policy"]
    assert _json(files, "concerns.json")[0]["as"] == "Staff"


def test_building_twice_builds_once(world, django_capture_on_commit_callbacks):
    sar = _request(world, world.parent, django_capture_on_commit_callbacks)
    again = services.build_subject_access_export(request_id=sar.pk)
    assert (again.file.name, again.sha256) == (sar.file.name, sar.sha256)
    assert Notification.objects.filter(recipient=world.leader, subject__startswith="Subject access").count() == 1


def test_a_failed_build_is_recorded_told_and_can_be_retried(world, monkeypatch, django_capture_on_commit_callbacks):
    import retention.subject_access

    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(retention.subject_access, "build_zip", broken)
    sar = _request(world, world.parent, django_capture_on_commit_callbacks)
    assert sar.status == SubjectAccessRequest.Status.FAILED and "disk full" in sar.error
    assert Notification.objects.filter(recipient=world.leader, subject__endswith="failed").exists()
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_subject_access(world.leader, sar=sar)
    sar.refresh_from_db()
    assert sar.status == SubjectAccessRequest.Status.READY


def test_only_leadership_and_only_for_their_own_people(world):
    with pytest.raises(PermissionDenied):
        services.request_subject_access(world.dsl, nursery=world.nursery, subject=world.parent,
                                        received_on=timezone.localdate())
    with pytest.raises(ValidationError):
        services.request_subject_access(world.leader, nursery=world.nursery, subject=world.outsider,
                                        received_on=timezone.localdate())


def test_the_download_is_recorded_and_never_cached(client, world, django_capture_on_commit_callbacks):
    sar = _request(world, world.parent, django_capture_on_commit_callbacks)
    client.force_login(world.deputy)
    response = client.get(reverse("retention:access_download", args=[sar.pk]))
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).testzip() is None
    sar.refresh_from_db()
    assert (sar.downloads, sar.last_downloaded_by) == (1, world.deputy)
    assert sar.history.first().history_user == world.deputy


def test_the_request_page_records_a_request(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.leader)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("retention:access"), {"subject": world.parent.pk,
                                                             "received_on": "2026-12-01", "notes": "Letter"})
    assert response.status_code == 302
    sar = SubjectAccessRequest.objects.get()
    assert sar.status == SubjectAccessRequest.Status.READY and str(sar.due_on) == "2027-01-01"
    page = client.get(reverse("retention:access"))
    assert "Download ZIP" in page.content.decode()


def test_the_retention_run_removes_the_zip_after_30_days_and_keeps_the_record(
    world, django_capture_on_commit_callbacks
):
    sar = _request(world, world.parent, django_capture_on_commit_callbacks)
    name, storage = sar.file.name, sar.file.storage
    services.run_retention(now=sar.built_at + timedelta(days=29))
    assert storage.exists(name)
    run = services.run_retention(now=sar.built_at + timedelta(days=30))
    sar.refresh_from_db()
    assert sar.status == SubjectAccessRequest.Status.EXPIRED and not sar.file
    assert not storage.exists(name)
    assert {c.kind: c.files for c in run.counts.all()} == {"access_exports": 1}


def test_a_hold_on_the_person_keeps_their_zip(world, django_capture_on_commit_callbacks):
    sar = _request(world, world.parent, django_capture_on_commit_callbacks)
    services.place_legal_hold(world.leader, nursery=world.nursery, person=world.parent, reason="Dispute")
    services.run_retention(now=sar.built_at + timedelta(days=60))
    sar.refresh_from_db()
    assert sar.status == SubjectAccessRequest.Status.READY
