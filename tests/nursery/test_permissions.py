import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory

from nursery.models import Child, Role
from nursery.permissions import (
    children_for_user,
    get_child_in_nursery,
    get_object_in_nursery,
    has_role,
    require_role,
    roles_of,
    users_with_role,
)
from tests.factories import ChildFactory, GuardianshipFactory, MembershipFactory


def test_roles_are_held_per_nursery(world):
    MembershipFactory(user=world.leader, nursery=world.other_nursery, role=Role.PARENT)
    assert roles_of(world.leader, world.nursery) == {Role.LEADERSHIP}
    assert roles_of(world.leader, world.other_nursery) == {Role.PARENT}
    assert roles_of(world.outsider, world.nursery) == frozenset()


def test_a_person_may_hold_several_roles(world):
    MembershipFactory(user=world.dsl, nursery=world.nursery, role=Role.LEADERSHIP)
    assert has_role(world.dsl, world.nursery, Role.LEADERSHIP)
    assert has_role(world.dsl, world.nursery, Role.SAFEGUARDING_LEAD)


def test_require_role_refuses_a_role_that_may_not_act(world):
    require_role(world.leader, world.nursery, Role.LEADERSHIP)
    with pytest.raises(PermissionDenied):
        require_role(world.practitioner, world.nursery, Role.LEADERSHIP)


def working_in(user, nursery):
    request = RequestFactory().get("/")
    request.user, request.nursery = user, nursery
    return request


def test_objects_of_another_nursery_are_not_found(world):
    theirs = ChildFactory(nursery=world.other_nursery)
    assert get_object_in_nursery(working_in(world.leader, world.nursery), Child, pk=world.child.pk) == world.child
    with pytest.raises(Http404):
        get_object_in_nursery(working_in(world.leader, world.nursery), Child, pk=theirs.pk)
    with pytest.raises(Http404):
        get_object_in_nursery(working_in(world.outsider, world.other_nursery), Child, pk=world.child.pk)


def test_objects_are_found_only_in_the_nursery_one_works_in(world):
    """A leader elsewhere who is a parent here, working elsewhere, does not reach this nursery's records."""
    MembershipFactory(user=world.leader, nursery=world.other_nursery, role=Role.PARENT)
    theirs = ChildFactory(nursery=world.other_nursery)
    with pytest.raises(Http404):
        get_object_in_nursery(working_in(world.leader, world.other_nursery), Child, pk=world.child.pk)
    with pytest.raises(Http404):
        get_object_in_nursery(working_in(world.leader, world.nursery), Child, pk=theirs.pk)
    with pytest.raises(Http404):
        get_object_in_nursery(working_in(world.practitioner, world.other_nursery), Child, pk=theirs.pk)


def test_the_role_is_asked_of_the_nursery_one_works_in(world):
    MembershipFactory(user=world.parent, nursery=world.other_nursery, role=Role.LEADERSHIP)
    request = working_in(world.parent, world.nursery)
    with pytest.raises(PermissionDenied):
        get_object_in_nursery(request, Child, roles=[Role.LEADERSHIP], pk=world.child.pk)
    assert get_object_in_nursery(request, Child, roles=[Role.PARENT], pk=world.child.pk) == world.child


def test_a_bad_id_is_not_found_rather_than_an_error(world):
    with pytest.raises(Http404):
        get_object_in_nursery(working_in(world.leader, world.nursery), Child, pk="not-a-number")


def test_parents_see_only_their_own_children(world):
    sibling = ChildFactory(nursery=world.nursery)
    GuardianshipFactory(user=world.parent, child=sibling)
    someone_else = ChildFactory(nursery=world.nursery)
    assert set(children_for_user(world.parent, world.nursery)) == {world.child, sibling}
    assert get_child_in_nursery(working_in(world.parent, world.nursery), sibling.pk) == sibling
    with pytest.raises(Http404):
        get_child_in_nursery(working_in(world.parent, world.nursery), someone_else.pk)


def test_staff_see_every_child_of_their_nursery_only(world):
    ChildFactory(nursery=world.other_nursery)
    assert set(children_for_user(world.practitioner, world.nursery)) == set(Child.objects.filter(nursery=world.nursery))


def test_users_with_role_skips_inactive_people(world):
    world.deputy.is_active = False
    world.deputy.save()
    assert list(users_with_role(world.nursery, Role.LEADERSHIP)) == [world.leader]


def test_views_refuse_a_role_without_access_with_403(world, client):
    from django.http import HttpResponse

    from nursery.permissions import role_required

    @role_required(Role.LEADERSHIP)
    def leaders_only(request):
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    request.user, request.nursery = world.practitioner, world.nursery
    with pytest.raises(PermissionDenied):
        leaders_only(request)
    request.user = world.leader
    assert leaders_only(request).status_code == 200


def test_switching_nursery_only_to_one_of_your_own(world, client):
    MembershipFactory(user=world.leader, nursery=world.other_nursery, role=Role.LEADERSHIP)
    client.force_login(world.leader)
    assert client.get("/").context["current_nursery"] == world.nursery
    client.post("/nursery/switch/", {"nursery": world.other_nursery.pk})
    assert client.get("/").context["current_nursery"] == world.other_nursery
    client.force_login(world.practitioner)
    response = client.post("/nursery/switch/", {"nursery": world.other_nursery.pk}, follow=True)
    assert "not a member" in response.content.decode()
    assert response.context["current_nursery"] == world.nursery


def test_the_whistleblowing_officer_must_be_a_leader(world):
    from django.core.exceptions import ValidationError

    world.nursery.whistleblowing_officer = world.practitioner
    with pytest.raises(ValidationError, match="leadership team"):
        world.nursery.full_clean()
    world.nursery.whistleblowing_officer = world.deputy
    world.nursery.full_clean()
