"""Claiming and resolving: the state machine, the stale-form guard and two reviewers at once."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, connections

from moderation.models import Action, ItemAction, ItemStatus, ModerationItem, PlatformActionStatus, Priority
from moderation.services import acknowledge_items, claim_item, release_item, resolve_item
from nursery.errors import ServiceError
from nursery.models import Notification, Role
from tests.factories import member
from tests.moderation.factories import ItemFactory


@pytest.fixture
def item(world):
    from tests.moderation.factories import ChannelFactory, CommentFactory

    return ItemFactory(comment=CommentFactory(channel=ChannelFactory(nursery=world.nursery)))


@pytest.fixture
def second_dsl(world):
    return member(world.nursery, Role.SAFEGUARDING_LEAD, username="dsl2", first_name="Sam", last_name="Lee")


def test_the_safeguarding_lead_claims_and_resolves(world, item):
    claim_item(world.dsl, item_id=item.pk, version=item.version)
    item = resolve_item(world.dsl, item_id=item.pk, action=Action.NO_CONCERN, reason="A kind comment",
                        version=item.version + 1)
    assert (item.status, item.action, item.resolved_by, item.reason) == (
        ItemStatus.RESOLVED, Action.NO_CONCERN, world.dsl, "A kind comment")
    assert [a.kind for a in item.actions.all()] == ["claimed", "resolved"]
    assert item.history.first().history_user == world.dsl


@pytest.mark.parametrize("actor", ["leader", "practitioner", "parent"])
def test_only_the_safeguarding_lead_acts(world, item, actor):
    with pytest.raises((PermissionDenied, ServiceError)):
        claim_item(world.actor(actor), item_id=item.pk)
    with pytest.raises((PermissionDenied, ServiceError)):
        resolve_item(world.actor(actor), item_id=item.pk, action=Action.NO_CONCERN, reason="x")
    item.refresh_from_db()
    assert item.status == ItemStatus.PENDING


def test_a_member_of_another_nursery_cannot_touch_the_item(world, item):
    with pytest.raises(ServiceError, match="does not exist"):
        claim_item(world.outsider, item_id=item.pk)


def test_it_refuses_a_resolution_without_a_reason(world, item):
    with pytest.raises(ServiceError, match="reason"):
        resolve_item(world.dsl, item_id=item.pk, action=Action.NO_CONCERN, reason="  ")


def test_an_item_claimed_by_someone_else_says_already_handled(world, item, second_dsl):
    claim_item(world.dsl, item_id=item.pk)
    with pytest.raises(ServiceError, match="Already handled: .* has claimed"):
        claim_item(second_dsl, item_id=item.pk)
    with pytest.raises(ServiceError, match="Already handled"):
        resolve_item(second_dsl, item_id=item.pk, action=Action.NO_CONCERN, reason="x")
    with pytest.raises(ServiceError, match="Already handled"):
        release_item(second_dsl, item_id=item.pk)


def test_a_stale_form_never_overwrites_a_decision(world, item, second_dsl):
    """Logically what happens when two reviewers press Resolve on the same page at once."""
    seen = item.version
    resolve_item(world.dsl, item_id=item.pk, action=Action.HIDE, reason="Names a child", version=seen)
    with pytest.raises(ServiceError, match="Already handled: .* resolved this item"):
        resolve_item(second_dsl, item_id=item.pk, action=Action.NO_CONCERN, reason="Fine", version=seen)
    item.refresh_from_db()
    assert (item.action, item.resolved_by) == (Action.HIDE, world.dsl)
    assert item.actions.filter(kind=ItemAction.Kind.RESOLVED).count() == 1


def test_a_resolved_item_cannot_be_resolved_again(world, item):
    resolve_item(world.dsl, item_id=item.pk, action=Action.NO_CONCERN, reason="ok")
    with pytest.raises(ServiceError, match="Already handled"):
        resolve_item(world.dsl, item_id=item.pk, action=Action.DELETE, reason="changed my mind")


def test_release_puts_it_back_in_the_queue(world, item):
    claim_item(world.dsl, item_id=item.pk)
    item = release_item(world.dsl, item_id=item.pk)
    assert (item.status, item.claimed_by) == (ItemStatus.PENDING, None)


def test_hide_records_the_intent_and_leaves_it_for_the_platform_action(world, item,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resolve_item(world.dsl, item_id=item.pk, action=Action.HIDE, reason="Names a child")
    item.refresh_from_db()
    assert item.platform_action_status == PlatformActionStatus.AWAITING
    assert item.actions.last().note.startswith("Awaiting platform action: hide on the platform on Facebook")
    assert item.comment.state == "visible", "the state changes only when the platform confirms"


def test_hide_is_refused_for_a_concern_report(world):
    from moderation.services import raise_concern

    concern_item = raise_concern(world.parent, nursery=world.nursery, description="A photo of my child was shared")
    with pytest.raises(ServiceError, match="apply to comments"):
        resolve_item(world.dsl, item_id=concern_item.pk, action=Action.HIDE, reason="x")


def test_escalating_as_a_safeguarding_concern_tells_the_lead_and_manager_at_once(world, item):
    Notification.objects.all().delete()
    resolve_item(world.dsl, item_id=item.pk, action=Action.ESCALATE, reason="Mentions bruises")
    item.refresh_from_db()
    assert item.escalated_at is not None
    recipients = set(Notification.objects.filter(subject__startswith="Escalated").values_list("recipient__username",
                                                                                             flat=True))
    assert recipients == {"dsl", "leader"}


def test_the_acknowledge_lane_is_cleared_in_bulk_with_one_action_per_item(world, item):
    from tests.moderation.factories import CommentFactory

    clean = [ItemFactory(comment=CommentFactory(channel=item.channel), priority=Priority.ACKNOWLEDGE) for _ in range(3)]
    resolve_item(world.dsl, item_id=clean[0].pk, action=Action.NO_CONCERN, reason="done already")
    count = acknowledge_items(world.dsl, nursery=world.nursery, item_ids=[i.pk for i in clean] + [item.pk])
    assert count == 2, "only pending clean items: the flagged one and the resolved one are left alone"
    for each in ModerationItem.objects.filter(pk__in=[clean[1].pk, clean[2].pk]):
        assert (each.status, each.action, each.resolved_by) == (ItemStatus.RESOLVED, Action.ACKNOWLEDGED, world.dsl)
        assert each.actions.filter(kind="resolved").count() == 1
    item.refresh_from_db()
    assert item.status == ItemStatus.PENDING


def test_leadership_cannot_acknowledge(world, item):
    with pytest.raises(PermissionDenied):
        acknowledge_items(world.leader, nursery=world.nursery, item_ids=[item.pk])


@pytest.mark.postgres
def test_two_reviewers_resolving_at_once_on_postgres_one_wins_the_other_is_told(
    postgres, world, item, second_dsl, transactional_db
):
    """Two real connections: the row lock makes the second wait, then see the first decision."""
    results: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def reviewer(user, action):
        try:
            barrier.wait()
            resolve_item(user, item_id=item.pk, action=action, reason=f"by {user.username}", version=item.version)
            results[user.username] = "resolved"
        except ServiceError as exc:
            results[user.username] = exc.message
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reviewer, args=(world.dsl, Action.HIDE)),
               threading.Thread(target=reviewer, args=(second_dsl, Action.NO_CONCERN))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values())[0].startswith("Already handled"), results
    assert list(results.values()).count("resolved") == 1
    item.refresh_from_db()
    winner = next(name for name, outcome in results.items() if outcome == "resolved")
    assert item.resolved_by.username == winner
    assert item.actions.filter(kind="resolved").count() == 1
    assert connection.vendor == "postgresql"
