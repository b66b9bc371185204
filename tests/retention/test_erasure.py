"""Erasure: what goes now, what is kept and why, carried out exactly as shown and recorded."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentDecision, ConsentRequest
from moderation.models import Concern
from nursery.models import Guardianship, Membership, Notification
from people.models import Invitation
from retention import services
from retention.erasure import ANONYMISE, ERASE, KEEP, assess
from retention.models import ErasureRequest
from staff_conduct.models import Acknowledgement
from tests.factories import ConsentDecisionFactory
from tests.retention.factories import notification, raised_concern, resolved_item
from tests.staff_conduct.factories import AcknowledgementFactory, IncidentFactory, policy

pytestmark = pytest.mark.django_db


def _actions(lines):
    return {line.key: line.action for line in lines}


@pytest.fixture
def leaver_parent(world):
    """The parent, whose only child left last month, with records of every kind."""
    child = world.child
    child.left_on = timezone.localdate() - timedelta(days=30)
    child.save()
    ConsentDecisionFactory(child=child, guardian=world.parent)
    ConsentRequest.objects.create(nursery=world.nursery, child=child, scope="closed", kind="first_ask",
                                  recipient=world.parent, cycle="c", sent_at=timezone.now())
    notification(world.parent, nursery=world.nursery, at=timezone.now())
    AcknowledgementFactory(version=policy(world.nursery, kind="parents"), nursery=world.nursery, user=world.parent)
    resolved_item(world, concern=raised_concern(world), resolved_at=timezone.now() - timedelta(days=10))
    Invitation.objects.create(nursery=world.nursery, user=world.parent, email="grace@example.org", role="parent",
                              created_at=timezone.now(), send_pending=False, accepted_at=timezone.now())
    return world.parent


def _record(world, subject):
    return services.record_erasure_request(world.leader, nursery=world.nursery, subject=subject,
                                           received_on=timezone.localdate(), notes="Letter, ID checked")


def test_it_shows_what_goes_now_and_what_is_kept_and_why(world, leaver_parent):
    lines = {line.key: line for line in assess(world.nursery, leaver_parent)}
    assert _actions(lines.values()) == {
        "notifications": ERASE, "consent_requests": ERASE, "consent_decisions": KEEP,
        "guardianships_left": ERASE, "acknowledgements": ERASE, "concerns_resolved": KEEP,
        "parent_role": ERASE, "account": ANONYMISE, "invitations": ERASE,
    }
    assert "legal claims" in lines["consent_decisions"].reason and "6 years" in lines["consent_decisions"].reason
    assert "EYFS" in lines["concerns_resolved"].reason


def test_carrying_it_out_erases_anonymises_keeps_and_records(world, leaver_parent):
    erasure = services.carry_out_erasure(world.leader, erasure=_record(world, leaver_parent))
    assert not Notification.objects.filter(recipient=leaver_parent).exists()
    assert not ConsentRequest.objects.exists()
    assert not Acknowledgement.objects.exists() and not Acknowledgement.history.exists()
    assert not Guardianship.objects.filter(user=leaver_parent).exists()
    assert not Membership.objects.filter(user=leaver_parent).exists()
    assert not Invitation.objects.filter(user=leaver_parent).exists()
    assert ConsentDecision.objects.filter(guardian=leaver_parent).count() == 1  # the evidence stays
    assert Concern.objects.filter(raised_by=leaver_parent).exists()
    leaver_parent.refresh_from_db()
    assert leaver_parent.username == f"erased-{leaver_parent.pk}" and not leaver_parent.email
    assert not leaver_parent.first_name and not leaver_parent.is_active and not leaver_parent.has_usable_password()
    assert erasure.status == ErasureRequest.Status.CARRIED_OUT and erasure.carried_out_by == world.leader
    recorded = {line["key"]: (line["action"], line["count"]) for line in erasure.outcome}
    assert recorded["notifications"] == (ERASE, 1) and recorded["consent_decisions"] == (KEEP, 1)
    assert erasure.history.first().history_user == world.leader
    with pytest.raises(ValidationError):
        services.carry_out_erasure(world.leader, erasure=erasure)


def test_a_parent_with_a_child_on_roll_keeps_what_consent_needs(world):
    AcknowledgementFactory(version=policy(world.nursery, kind="parents"), nursery=world.nursery, user=world.parent)
    services.carry_out_erasure(world.leader, erasure=_record(world, world.parent))
    assert Guardianship.objects.filter(user=world.parent).exists()
    assert Acknowledgement.objects.filter(user=world.parent).exists()
    world.parent.refresh_from_db()
    assert world.parent.username == "parent" and world.parent.is_active


def test_staff_with_an_open_incident_keep_it_and_their_roles(world):
    IncidentFactory(nursery=world.nursery, subject=world.practitioner)
    notification(world.practitioner, nursery=world.nursery, at=timezone.now())
    actions = _actions(assess(world.nursery, world.practitioner))
    assert actions["incidents_open"] == KEEP and actions["roles"] == KEEP and actions["account"] == KEEP
    assert actions["notifications"] == ERASE


def test_a_legal_hold_keeps_everything(world, leaver_parent):
    services.place_legal_hold(world.leader, nursery=world.nursery, person=leaver_parent, reason="County court claim")
    lines = assess(world.nursery, leaver_parent)
    assert {line.action for line in lines} == {KEEP}
    assert all("County court claim" in line.reason for line in lines if line.key == "notifications")
    services.carry_out_erasure(world.leader, erasure=_record(world, leaver_parent))
    assert Notification.objects.filter(recipient=leaver_parent).exists()


def test_only_leadership_and_only_their_own_people(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.record_erasure_request(world.dsl, nursery=world.nursery, subject=world.parent,
                                        received_on=timezone.localdate())
    with pytest.raises(ValidationError):
        _record(world, world.outsider)


def test_the_pages_record_show_and_carry_out(client, world, leaver_parent):
    client.force_login(world.leader)
    response = client.post(reverse("retention:erasure_list"), {"subject": leaver_parent.pk,
                                                               "received_on": "2026-12-01"})
    erasure = ErasureRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("retention:erasure", args=[erasure.pk])
    page = client.get(reverse("retention:erasure", args=[erasure.pk])).content.decode()
    assert "Photo consent decisions they made" in page and "Carry out the erasure" in page
    assert client.post(reverse("retention:erasure_carry_out", args=[erasure.pk])).status_code == 302
    page = client.get(reverse("retention:erasure", args=[erasure.pk])).content.decode()
    assert "Carried out" in page and "Anonymised" in page
    assert client.get(reverse("retention:erasure_list")).status_code == 200
