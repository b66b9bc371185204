"""The queue works without JavaScript: a claimed item can be resolved from the queue page itself after a reload
or a bulk acknowledge, and a hide/delete done by hand on the platform is recorded with who and when."""

import re

import pytest

from moderation.models import ItemAction, ItemStatus, PlatformActionStatus
from moderation.services import claim_item, enter_comment, raise_concern, resolve_item
from tests.moderation.factories import ChannelFactory


@pytest.fixture
def channel(world):
    return ChannelFactory(nursery=world.nursery, name="Families group")


def decision_options(page: str, item_pk: int) -> list[str]:
    select = re.search(rf'<select[^>]*id="item-{item_pk}-action"[^>]*>(.*?)</select>', page, re.S)
    assert select, "the claimed item has no Decision list"
    return re.findall(r'<option value="([^"]+)"', select.group(1))


def test_a_claimed_item_can_be_resolved_from_the_queue_page_after_a_reload(world, client, channel):
    item = enter_comment(world.practitioner, channel=channel, author_name="A", text="Amara Okafor")
    claim_item(world.dsl, item_id=item.pk)
    client.force_login(world.dsl)
    page = client.get("/moderation/").content.decode()
    assert decision_options(page, item.pk) == ["no_concern", "hide", "delete", "reply", "escalate"]
    response = client.post(f"/moderation/items/{item.pk}/resolve/",
                           {"version": item.version + 1, "action": "hide", "reason": "Names a child",
                            "next": "/moderation/"})
    assert response.status_code == 302 and response["Location"] == "/moderation/"
    item.refresh_from_db()
    assert (item.status, item.action) == (ItemStatus.RESOLVED, "hide")


def test_a_claimed_concern_offers_no_platform_decisions(world, client):
    item = raise_concern(world.parent, nursery=world.nursery, description="Worried")
    claim_item(world.dsl, item_id=item.pk)
    client.force_login(world.dsl)
    options = decision_options(client.get("/moderation/").content.decode(), item.pk)
    assert "hide" not in options and "delete" not in options and "no_concern" in options


def test_the_decision_list_is_there_after_a_bulk_acknowledge(world, client, channel):
    flagged = enter_comment(world.practitioner, channel=channel, author_name="A", text="Amara Okafor")
    clean = enter_comment(world.practitioner, channel=channel, author_name="B", text="Lovely")
    claim_item(world.dsl, item_id=flagged.pk)
    client.force_login(world.dsl)
    page = client.post("/moderation/acknowledge/", {"item": [clean.pk]}, follow=True).content.decode()
    assert "1 clean comment acknowledged." in page
    assert "hide" in decision_options(page, flagged.pk)


@pytest.fixture
def hidden_by_decision(world, channel):
    item = enter_comment(world.practitioner, channel=channel, author_name="A", text="Amara Okafor")
    resolve_item(world.dsl, item_id=item.pk, action="hide", reason="Names a child")
    item.refresh_from_db()
    item.platform_action_status = PlatformActionStatus.AWAITING
    item.save()
    return item


def test_done_by_hand_is_recorded_with_who_and_when(world, client, hidden_by_decision):
    item = hidden_by_decision
    client.force_login(world.dsl)
    page = client.get("/moderation/?status=resolved").content.decode()
    assert "Done by hand on" in page
    response = client.post(f"/moderation/items/{item.pk}/done-by-hand/",
                           {"version": item.version, "note": "Hidden from the Page's comment settings"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.platform_action_status == PlatformActionStatus.DONE
    action = item.actions.filter(kind=ItemAction.Kind.PLATFORM_ACTION).last()
    assert action.actor == world.dsl and action.at is not None
    assert action.note.startswith("Hidden by hand on") and "Hidden from the Page's comment settings" in action.note
    assert "Done by hand on" not in client.get("/moderation/?status=resolved").content.decode()


def test_done_by_hand_also_closes_a_failed_platform_action(world, client, hidden_by_decision):
    item = hidden_by_decision
    item.platform_action_status = PlatformActionStatus.FAILED
    item.save()
    client.force_login(world.dsl)
    client.post(f"/moderation/items/{item.pk}/done-by-hand/", {"version": item.version})
    item.refresh_from_db()
    assert item.platform_action_status == PlatformActionStatus.DONE


def test_done_by_hand_is_refused_when_nothing_waits(world, client, channel):
    item = enter_comment(world.practitioner, channel=channel, author_name="A", text="Amara Okafor")
    resolve_item(world.dsl, item_id=item.pk, action="no_concern", reason="Fine")
    client.force_login(world.dsl)
    response = client.post(f"/moderation/items/{item.pk}/done-by-hand/", {"version": 2}, follow=True)
    assert "not waiting for anything to be done on the platform" in response.content.decode()


def test_leadership_cannot_record_done_by_hand(world, client, hidden_by_decision):
    client.force_login(world.leader)
    response = client.post(f"/moderation/items/{hidden_by_decision.pk}/done-by-hand/",
                           {"version": hidden_by_decision.version})
    assert response.status_code == 403
    hidden_by_decision.refresh_from_db()
    assert hidden_by_decision.platform_action_status == PlatformActionStatus.AWAITING


def test_done_by_hand_refuses_get(world, client, hidden_by_decision):
    client.force_login(world.dsl)
    assert client.get(f"/moderation/items/{hidden_by_decision.pk}/done-by-hand/").status_code == 405
