from nursery.audit import acting_as
from nursery.models import Room


def test_history_records_the_acting_user_and_reason_outside_a_request(world):
    with acting_as(world.leader, "Opened the new baby room"):
        room = Room.objects.create(nursery=world.nursery, name="Nest")
    record = room.history.get()
    assert record.history_user == world.leader
    assert record.history_change_reason == "Opened the new baby room"
    assert record.history_type == "+"


def test_each_change_is_kept_with_who_made_it(world):
    with acting_as(world.leader, "Created"):
        room = Room.objects.create(nursery=world.nursery, name="Nest")
    with acting_as(world.deputy, "Renamed after the parents' vote"):
        room.name = "Robins"
        room.save()
    names = [(h.name, h.history_user, h.history_change_reason) for h in room.history.order_by("history_id")]
    assert names == [("Nest", world.leader, "Created"), ("Robins", world.deputy, "Renamed after the parents' vote")]


def test_the_acting_user_does_not_leak_past_the_block(world):
    with acting_as(world.leader, "x"):
        pass
    room = Room.objects.create(nursery=world.nursery, name="Owls")
    assert room.history.get().history_user is None


def test_the_admin_shows_history_but_cannot_revert_it(world, admin_client):
    with acting_as(world.leader, "Created"):
        room = Room.objects.create(nursery=world.nursery, name="Nest")
    response = admin_client.get(f"/admin/nursery/room/{room.pk}/history/")
    assert response.status_code == 200
    assert "Created" in response.content.decode()
    record = room.history.get()
    # SIMPLE_HISTORY_REVERT_DISABLED: history is evidence, not an undo button
    revert = admin_client.post(f"/admin/nursery/room/{room.pk}/history/{record.history_id}/",
                               {"nursery": world.nursery.pk, "name": "Reverted"})
    assert revert.status_code == 403
    room.refresh_from_db()
    assert room.name == "Nest"
    assert room.history.count() == 1
