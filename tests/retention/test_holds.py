import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from retention.models import LegalHold
from retention.services import place_legal_hold, release_legal_hold
from tests.factories import ChildFactory

pytestmark = pytest.mark.django_db


def test_only_leadership_places_a_hold(world):
    with pytest.raises(PermissionDenied):
        place_legal_hold(world.dsl, nursery=world.nursery, child=world.child, reason="Claim")


def test_a_hold_needs_a_reason_and_one_thing(world):
    with pytest.raises(ValidationError):
        place_legal_hold(world.leader, nursery=world.nursery, child=world.child, reason="  ")
    with pytest.raises(ValidationError):
        place_legal_hold(world.leader, nursery=world.nursery, child=world.child, person=world.parent, reason="x")


def test_a_hold_cannot_reach_into_another_nursery(world):
    with pytest.raises(ValidationError):
        place_legal_hold(world.leader, nursery=world.nursery, child=ChildFactory(nursery=world.other_nursery),
                         reason="Claim")
    with pytest.raises(ValidationError):
        place_legal_hold(world.leader, nursery=world.nursery, person=world.outsider, reason="Claim")


def test_placing_and_releasing_are_recorded_with_who_and_why(world):
    hold = place_legal_hold(world.leader, nursery=world.nursery, child=world.child, reason="Parent's claim")
    release_legal_hold(world.deputy, hold=hold, reason="Claim settled")
    hold.refresh_from_db()
    assert not hold.is_active and hold.released_by == world.deputy
    assert [h.history_user for h in hold.history.order_by("history_date")] == [world.leader, world.deputy]
    with pytest.raises(ValidationError):
        release_legal_hold(world.leader, hold=hold, reason="Again")


def test_the_database_refuses_a_hold_on_nothing(world):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        LegalHold.objects.create(nursery=world.nursery, reason="x", placed_by=world.leader, placed_at=timezone.now())
