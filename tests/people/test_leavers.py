"""Marking a child as leaving: leadership only, with a reason, on the child's history; parents' access."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import Scope
from consent.queries import State, consent_state
from nursery.errors import ServiceError
from nursery.models import Child, Membership, Role
from people.services import mark_child_leaving, retire_leavers
from tests.factories import ChildFactory, GuardianshipFactory, grant

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def test_consent_ends_and_the_parent_of_no_other_child_loses_access(world):
    grant(world.child, Scope.CLOSED, guardian=world.parent)
    mark_child_leaving(world.leader, child=world.child, left_on=TODAY(), reason="Starting school")
    assert consent_state(world.child, Scope.CLOSED).state == State.LEFT
    assert not Membership.objects.filter(user=world.parent, nursery=world.nursery, role=Role.PARENT).exists()


def test_a_parent_with_another_child_on_roll_keeps_access(world):
    GuardianshipFactory(child=ChildFactory(nursery=world.nursery), user=world.parent)
    mark_child_leaving(world.leader, child=world.child, left_on=TODAY(), reason="Starting school")
    assert Membership.objects.filter(user=world.parent, nursery=world.nursery, role=Role.PARENT).exists()


def test_access_goes_on_the_day_not_before(world):
    leaving = TODAY() + timedelta(days=2)
    mark_child_leaving(world.leader, child=world.child, left_on=leaving, reason="Moving away")
    assert Membership.objects.filter(user=world.parent, role=Role.PARENT).exists()
    retire_leavers(now=timezone.now() + timedelta(days=2))
    assert not Membership.objects.filter(user=world.parent, role=Role.PARENT).exists()


def test_it_is_on_the_childs_history_with_who_and_why(world):
    mark_child_leaving(world.leader, child=world.child, left_on=TODAY() + timedelta(days=5), reason="Moving away")
    record = world.child.history.latest("history_date")
    assert record.history_user == world.leader and "Moving away" in record.history_change_reason


@pytest.mark.parametrize("actor", ["practitioner", "dsl", "parent", "outsider"])
def test_only_leadership_marks_a_child_as_leaving(world, actor):
    with pytest.raises(ServiceError):
        mark_child_leaving(world.actor(actor), child=world.child, left_on=TODAY(), reason="No")
    assert Child.objects.get(pk=world.child.pk).left_on is None


def test_it_refuses_a_date_before_joining_a_missing_reason_and_changing_a_past_leaving(world):
    with pytest.raises(ServiceError, match="before"):
        mark_child_leaving(world.leader, child=world.child, left_on=world.child.joined_on - timedelta(days=1),
                           reason="Oops")
    with pytest.raises(ServiceError, match="why"):
        mark_child_leaving(world.leader, child=world.child, left_on=TODAY(), reason=" ")
    mark_child_leaving(world.leader, child=world.child, left_on=TODAY(), reason="Left")
    with pytest.raises(ServiceError, match="already left"):
        mark_child_leaving(world.leader, child=world.child, left_on=None, reason="Came back")


def test_a_future_leaving_date_can_be_cancelled(world):
    mark_child_leaving(world.leader, child=world.child, left_on=TODAY() + timedelta(days=9), reason="Moving")
    mark_child_leaving(world.leader, child=world.child, left_on=None, reason="Staying after all")
    assert Child.objects.get(pk=world.child.pk).left_on is None


def test_the_leaving_page(world, client):
    client.force_login(world.leader)
    url = reverse("people:child_leaving", args=[world.child.pk])
    assert "is leaving" in client.get(url).content.decode()
    response = client.post(url, {"left_on": (TODAY() + timedelta(days=3)).isoformat(), "reason": "Moving"})
    assert response.status_code == 302
    assert Child.objects.get(pk=world.child.pk).left_on == TODAY() + timedelta(days=3)
    response = client.post(url, {"left_on": (world.child.joined_on - timedelta(days=1)).isoformat(), "reason": "x"})
    assert response.status_code == 200 and "cannot be before" in response.content.decode()


def test_setting_a_leaving_date_in_the_admin_goes_through_the_service(world, admin_client):
    child = world.child
    response = admin_client.post(reverse("admin:nursery_child_change", args=[child.pk]), {
        "nursery": child.nursery_id, "room": child.room_id, "first_name": child.first_name,
        "last_name": child.last_name, "date_of_birth": child.date_of_birth.isoformat(),
        "joined_on": child.joined_on.isoformat(), "left_on": TODAY().isoformat(),
        "guardianships-TOTAL_FORMS": "0", "guardianships-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    child.refresh_from_db()
    assert child.left_on == TODAY() and child.left_processed_on == TODAY()
    assert not Membership.objects.filter(user=world.parent, role=Role.PARENT).exists()


@pytest.mark.parametrize("leaving", [date(2026, 10, 25), date(2027, 3, 28)], ids=["clocks-back", "clocks-forward"])
def test_the_leaving_day_starts_at_midnight_in_london_on_the_days_the_clocks_change(world, leaving):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    Child.objects.filter(pk=world.child.pk).update(joined_on=date(2025, 9, 1))
    world.child.refresh_from_db()
    mark_child_leaving(world.leader, child=world.child, left_on=leaving, reason="Moving",
                       now=datetime.combine(leaving - timedelta(days=5), time(12), tzinfo=london))
    eve = datetime.combine(leaving - timedelta(days=1), time(23, 59), tzinfo=london)
    assert retire_leavers(now=eve) == 0
    assert retire_leavers(now=datetime.combine(leaving, time(0, 1), tzinfo=london)) == 1
