"""Removing a guardian, or their parental responsibility: a service with audit, and the consent rules hold."""

import pytest
from django.urls import reverse

from consent.models import Decision, Scope
from consent.queries import State, consent_state
from consent.signals import consent_withdrawn
from nursery.errors import ServiceError
from nursery.models import Guardianship, Membership, Role
from nursery.services import remove_guardian, set_parental_responsibility
from tests.consent.factories import wordings
from tests.factories import ChildFactory, ConsentDecisionFactory, GuardianshipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(world):
    wordings(world.nursery)
    child, mum = world.child, world.parent
    dad = GuardianshipFactory(child=child, relationship="father", user=UserFactory(first_name="Tom")).user
    ConsentDecisionFactory(child=child, guardian=mum)
    ConsentDecisionFactory(child=child, guardian=dad, decision=Decision.WITHDRAWN)
    return child, mum, dad


def test_removing_the_guardian_who_withdrew_leaves_the_withdrawal_standing(world, family):
    child, _, dad = family
    remove_guardian(world.leader, guardianship=child.guardianships.get(user=dad), reason="Court order")
    assert not child.guardianships.filter(user=dad).exists()
    assert consent_state(child, Scope.CLOSED).state == State.WITHDRAWN


def test_unticking_parental_responsibility_leaves_the_withdrawal_standing(world, family):
    child, _, dad = family
    g = child.guardianships.get(user=dad)
    set_parental_responsibility(world.leader, guardianship=g, value=False, reason="Court order")
    g.refresh_from_db()
    assert g.has_parental_responsibility is False
    assert consent_state(child, Scope.CLOSED).state == State.WITHDRAWN


def test_the_change_is_audited_with_who_and_why(world, family):
    child, _, dad = family
    remove_guardian(world.leader, guardianship=child.guardianships.get(user=dad), reason="Court order")
    record = Guardianship.history.filter(child=child, user=dad).latest("history_date")
    assert record.history_type == "-" and record.history_user == world.leader
    assert "Court order" in record.history_change_reason


@pytest.mark.parametrize("actor", ["practitioner", "dsl", "parent", "outsider"])
def test_only_leadership_changes_guardians(world, family, actor):
    child, _, dad = family
    g = child.guardianships.get(user=dad)
    with pytest.raises(ServiceError):
        remove_guardian(world.actor(actor), guardianship=g, reason="Because")
    with pytest.raises(ServiceError):
        set_parental_responsibility(world.actor(actor), guardianship=g, value=False, reason="Because")
    assert Guardianship.objects.filter(pk=g.pk, has_parental_responsibility=True).exists()


def test_a_reason_is_required(world, family):
    child, _, dad = family
    with pytest.raises(ServiceError, match="why"):
        remove_guardian(world.leader, guardianship=child.guardianships.get(user=dad), reason="  ")


def test_a_parent_with_no_other_child_loses_access_to_the_nursery(world, family):
    child, mum, dad = family
    sibling = ChildFactory(nursery=world.nursery)
    GuardianshipFactory(child=sibling, user=mum)
    remove_guardian(world.leader, guardianship=child.guardianships.get(user=dad), reason="Moved away")
    remove_guardian(world.leader, guardianship=child.guardianships.get(user=mum), reason="Moved away")
    assert not Membership.objects.filter(user=dad, nursery=world.nursery, role=Role.PARENT).exists()
    assert Membership.objects.filter(user=mum, nursery=world.nursery, role=Role.PARENT).exists()


def test_removing_the_only_guardian_who_granted_ends_consent_like_a_withdrawal(
    world, django_capture_on_commit_callbacks,
):
    wordings(world.nursery)
    child, mum = world.child, world.parent
    ConsentDecisionFactory(child=child, guardian=mum, scope=Scope.PUBLIC)
    heard = []

    def listener(sender, child_id, scope, **kwargs):
        heard.append((child_id, scope))

    consent_withdrawn.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ended = remove_guardian(world.leader, guardianship=child.guardianships.get(user=mum), reason="Error")
    finally:
        consent_withdrawn.disconnect(listener)
    assert ended == [Scope.PUBLIC] and heard == [(child.pk, Scope.PUBLIC)]
    assert world.deputy.notifications.filter(subject__contains="no longer holds").exists()


def test_deleting_a_guardianship_in_the_admin_goes_through_the_service(world, family, admin_client, admin_user):
    child, _, dad = family
    g = child.guardianships.get(user=dad)
    response = admin_client.post(reverse("admin:nursery_guardianship_delete", args=[g.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert consent_state(child, Scope.CLOSED).state == State.WITHDRAWN
    record = Guardianship.history.filter(child=child, user=dad).latest("history_date")
    assert record.history_type == "-" and record.history_user == admin_user
    assert record.history_change_reason.startswith("Removed")


def test_unticking_in_the_admin_goes_through_the_service(world, family, admin_client):
    child, _, dad = family
    g = child.guardianships.get(user=dad)
    response = admin_client.post(reverse("admin:nursery_guardianship_change", args=[g.pk]), {
        "user": dad.pk, "child": child.pk, "relationship": "father",
    })
    assert response.status_code == 302
    g.refresh_from_db()
    assert not g.has_parental_responsibility
    assert "no longer has parental responsibility" in g.history.latest("history_date").history_change_reason
    assert consent_state(child, Scope.CLOSED).state == State.WITHDRAWN


def test_the_evidence_page_shows_guardianship_changes(world, family, client):
    child, _, dad = family
    remove_guardian(world.leader, guardianship=child.guardianships.get(user=dad), reason="Court order")
    client.force_login(world.leader)
    page = client.get(reverse("consent:evidence", args=[child.pk])).content.decode()
    assert "Changes to parents and carers" in page and "Court order" in page and "Removed" in page
