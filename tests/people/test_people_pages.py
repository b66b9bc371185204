"""Leadership's people pages: rooms, children, guardians and staff, each change a service with history."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from nursery.errors import ServiceError
from nursery.models import Child, Guardianship, Membership, Role, Room
from people import services
from tests.factories import ChildFactory, RoomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def leader_client(client, world):
    client.force_login(world.leader)
    return client


# --- rooms


def test_rooms_are_added_renamed_and_archived(world, leader_client):
    assert leader_client.post(reverse("people:rooms"), {"name": "Babies"}).status_code == 302
    babies = Room.objects.get(nursery=world.nursery, name="Babies")
    leader_client.post(reverse("people:room_rename", args=[babies.pk]), {"name": "Baby room"})
    babies.refresh_from_db()
    assert babies.name == "Baby room" and babies.history.latest("history_date").history_user == world.leader
    leader_client.post(reverse("people:room_archive", args=[babies.pk]))
    babies.refresh_from_db()
    assert babies.archived_at
    leader_client.get(reverse("people:rooms"))  # the "archived" message is shown there
    assert f'value="{babies.pk}"' not in leader_client.get(reverse("people:child_new")).content.decode()


def test_a_room_with_children_on_roll_is_not_archived_and_names_are_unique(world):
    with pytest.raises(ServiceError, match="Move the children"):
        services.archive_room(world.leader, room=world.child.room)
    with pytest.raises(ServiceError, match="already a room"):
        services.add_room(world.leader, nursery=world.nursery, name="preschool")


# --- children


def test_a_child_is_added_once(world, leader_client):
    data = {"first_name": "Zoe", "last_name": "Ng", "date_of_birth": "2023-02-01", "joined_on": "2025-09-01",
            "room": world.child.room_id}
    response = leader_client.post(reverse("people:child_new"), data)
    zoe = Child.objects.get(first_name="Zoe")
    assert response["Location"] == reverse("people:child", args=[zoe.pk])
    response = leader_client.post(reverse("people:child_new"), data)
    assert "already on the roll" in response.content.decode()


def test_moving_a_child_to_another_room_is_on_their_history(world, leader_client):
    toddlers = RoomFactory(nursery=world.nursery, name="Toddlers")
    child = world.child
    leader_client.post(reverse("people:child", args=[child.pk]), {
        "first_name": child.first_name, "last_name": child.last_name, "date_of_birth": child.date_of_birth,
        "joined_on": child.joined_on, "room": toddlers.pk, "reason": "Turned three",
    })
    child.refresh_from_db()
    assert child.room == toddlers
    page = leader_client.get(reverse("people:child", args=[child.pk])).content.decode()
    assert "Turned three" in page and "Helen Marsh" in page


def test_the_children_list_searches_filters_and_paginates_within_a_query_budget(
    world, leader_client, django_assert_max_num_queries,
):
    toddlers = RoomFactory(nursery=world.nursery, name="Toddlers")
    for n in range(40):
        ChildFactory(nursery=world.nursery, room=toddlers if n % 2 else world.child.room, first_name=f"Kid{n:02d}")
    ChildFactory(nursery=world.other_nursery, first_name="Elsewhere")
    url = reverse("people:children")
    with django_assert_max_num_queries(14):
        page = leader_client.get(url).content.decode()
    assert "Page 1 of 2" in page and "Elsewhere" not in page
    page = leader_client.get(url, {"q": "kid07"}).content.decode()
    assert "Kid07" in page and "Kid08" not in page
    page = leader_client.get(url, {"room": toddlers.pk}).content.decode()
    assert "Kid01" in page and "Kid02" not in page and "Amara" not in page


def test_leavers_show_under_left(world, leader_client):
    gone = ChildFactory(nursery=world.nursery, first_name="Gone", left_on=timezone.localdate() - timedelta(days=1))
    assert gone.first_name not in leader_client.get(reverse("people:children")).content.decode()
    assert "Gone" in leader_client.get(reverse("people:children"), {"status": "left"}).content.decode()


# --- guardians


def test_a_guardian_is_removed_from_the_childs_page_with_a_reason(world, leader_client):
    g = world.child.guardianships.get(user=world.parent)
    url = reverse("people:guardian_remove", args=[g.pk])
    leader_client.post(url, {"reason": ""})
    assert Guardianship.objects.filter(pk=g.pk).exists()
    leader_client.post(url, {"reason": "Court order"})
    assert not Guardianship.objects.filter(pk=g.pk).exists()
    page = leader_client.get(reverse("people:child", args=[world.child.pk])).content.decode()
    assert "Removed Grace Okafor" in page and "Court order" in page


def test_parental_responsibility_is_changed_from_the_childs_page(world, leader_client):
    g = world.child.guardianships.get(user=world.parent)
    leader_client.post(reverse("people:guardian_responsibility", args=[g.pk]), {"value": "no", "reason": "Order"})
    g.refresh_from_db()
    assert not g.has_parental_responsibility


def test_another_nurserys_guardian_is_a_404(world, leader_client):
    theirs = Guardianship.objects.create(user=world.outsider, child=ChildFactory(nursery=world.other_nursery),
                                         relationship="father")
    assert leader_client.post(reverse("people:guardian_remove", args=[theirs.pk]), {"reason": "x"}).status_code == 404


# --- staff


def test_staff_roles_are_changed_and_removed_but_never_the_last_leader(world, leader_client):
    membership = world.practitioner.memberships.get(nursery=world.nursery)
    leader_client.post(reverse("people:staff_role", args=[membership.pk]), {"role": Role.SAFEGUARDING_LEAD})
    membership.refresh_from_db()
    assert membership.role == Role.SAFEGUARDING_LEAD
    leader_client.post(reverse("people:staff_remove", args=[membership.pk]), {"reason": "Left the job"})
    assert not Membership.objects.filter(pk=membership.pk).exists()
    deputy = world.deputy.memberships.get(nursery=world.nursery)
    services.remove_staff_role(world.leader, membership=deputy, reason="Moved on")
    mine = world.leader.memberships.get(nursery=world.nursery, role=Role.LEADERSHIP)
    with pytest.raises(ServiceError, match="at least one"):
        services.remove_staff_role(world.leader, membership=mine, reason="Leaving")
    page = leader_client.get(reverse("people:staff")).content.decode()
    assert "Left the job" in page and "Moved on" in page


def test_the_staff_list_searches_and_keeps_parents_out(world, leader_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        page = leader_client.get(reverse("people:staff")).content.decode()
    assert "Daniel Reid" in page and "Grace Okafor" not in page
    page = leader_client.get(reverse("people:staff"), {"q": "daniel"}).content.decode()
    assert "Daniel Reid" in page and "leader@example.org" not in page


@pytest.mark.parametrize("actor", ["practitioner", "dsl", "parent", "outsider"])
def test_only_leadership_changes_people(world, actor):
    user = world.actor(actor)
    for call in (
        lambda: services.add_room(user, nursery=world.nursery, name="New"),
        lambda: services.add_child(user, nursery=world.nursery, first_name="A", last_name="B",
                                   date_of_birth=date(2023, 1, 1), joined_on=date(2025, 1, 1), room=None),
        lambda: services.change_staff_role(user, membership=world.practitioner.memberships.get(), role=Role.LEADERSHIP),
    ):
        with pytest.raises(ServiceError):
            call()


@pytest.mark.parametrize("count", [5, 500])
def test_the_people_lists_keep_their_query_budget_at_5_and_500(world, leader_client, count,
                                                                django_assert_max_num_queries):
    Child.objects.bulk_create([
        Child(nursery=world.nursery, room=world.child.room, first_name=f"Kid{n:03d}", last_name="Budget",
              date_of_birth=date(2023, 1, 1), joined_on=date(2025, 1, 1)) for n in range(count)
    ])
    for name in ("people:children", "people:staff", "people:invitations", "people:rooms"):
        with django_assert_max_num_queries(14):
            assert leader_client.get(reverse(name)).status_code == 200
