from datetime import timedelta

import pytest
from django.utils import timezone

from nursery.errors import ServiceError
from nursery.models import Notification
from nursery.permissions import roles_of
from staff_conduct import queries, services
from staff_conduct.models import Acknowledgement, AcknowledgementChase, ChaseKind, ImmutableRowError, PolicyKind
from staff_conduct.services import MAX_REMINDERS
from tests.staff_conduct.factories import AcknowledgementFactory, policy

pytestmark = pytest.mark.django_db


def acknowledge(user, version, **extra):
    return services.acknowledge_policy(user, version=version, signature=user.get_full_name(), **extra)


def test_it_records_who_which_version_when_and_the_typed_name(world, staff_policy):
    now = timezone.now()
    ack = acknowledge(world.practitioner, staff_policy, ip_address="10.0.0.7", user_agent="Tablet", now=now)
    ack.refresh_from_db()
    assert (ack.user, ack.version, ack.acknowledged_at, ack.signature) == (
        world.practitioner, staff_policy, now, "Chloe Bennett")
    assert ack.ip_address == "10.0.0.7" and ack.nursery == world.nursery
    assert ack.history.first().history_user == world.practitioner


def test_staff_must_acknowledge_the_staff_policy_and_parents_the_parents_rules(world, staff_policy, parents_rules):
    def outstanding(user):
        return queries.outstanding_for(user, world.nursery, roles_of(user, world.nursery))

    assert outstanding(world.practitioner) == [staff_policy]
    assert outstanding(world.dsl) == [staff_policy]
    assert outstanding(world.leader) == [staff_policy]
    assert outstanding(world.parent) == [parents_rules]
    acknowledge(world.practitioner, staff_policy)
    assert outstanding(world.practitioner) == []


@pytest.mark.parametrize("signature", ["", "  ", "ab", "123 456"])
def test_it_refuses_an_acknowledgement_without_a_typed_name(world, staff_policy, signature):
    with pytest.raises(ServiceError, match="full name"):
        services.acknowledge_policy(world.practitioner, version=staff_policy, signature=signature)
    assert not Acknowledgement.objects.exists()


def test_it_refuses_acknowledging_the_same_version_twice(world, staff_policy):
    acknowledge(world.practitioner, staff_policy)
    with pytest.raises(ServiceError, match="already acknowledged"):
        acknowledge(world.practitioner, staff_policy)
    assert Acknowledgement.objects.count() == 1


def test_it_refuses_a_parent_acknowledging_the_staff_policy(world, staff_policy):
    with pytest.raises(ServiceError, match="not for you"):
        acknowledge(world.parent, staff_policy)


def test_it_refuses_a_member_of_another_nursery(world, staff_policy):
    with pytest.raises(ServiceError, match="not for you"):
        acknowledge(world.outsider, staff_policy)


def test_a_new_version_asks_everyone_again(world, staff_policy):
    acknowledge(world.practitioner, staff_policy)
    newer = services.publish_policy_version(
        world.leader, nursery=world.nursery, kind=PolicyKind.STAFF, text="Revised.", clauses=["One.", "Two."],
        effective_on=timezone.localdate(),
    )
    assert newer.version == 2 and [c.text for c in newer.clauses.all()] == ["One.", "Two."]
    roles = roles_of(world.practitioner, world.nursery)
    assert queries.outstanding_for(world.practitioner, world.nursery, roles) == [newer]
    with pytest.raises(ServiceError, match="newer version"):
        services.acknowledge_policy(world.dsl, version=staff_policy, signature="Priya Shah")
    acknowledge(world.practitioner, newer)
    assert queries.outstanding_for(world.practitioner, world.nursery, roles) == []


def test_a_version_coming_into_force_later_is_not_current_until_then(world, staff_policy):
    later = services.publish_policy_version(
        world.leader, nursery=world.nursery, kind=PolicyKind.STAFF, text="Next year's.", clauses=["One."],
        effective_on=timezone.localdate() + timedelta(days=10),
    )
    assert queries.current_version(world.nursery, PolicyKind.STAFF) == staff_policy
    assert queries.current_version(world.nursery, PolicyKind.STAFF, today=later.effective_on) == later


def test_acknowledgements_are_never_changed_or_deleted(world, staff_policy):
    ack = acknowledge(world.practitioner, staff_policy)
    ack.signature = "Someone else"
    with pytest.raises(ImmutableRowError):
        ack.save()
    with pytest.raises(ImmutableRowError):
        ack.delete()
    with pytest.raises(ImmutableRowError):
        Acknowledgement.objects.filter(pk=ack.pk).update(signature="x")
    with pytest.raises(ImmutableRowError):
        Acknowledgement.objects.all().delete()
    assert Acknowledgement.objects.get().signature == "Chloe Bennett"


# --- Publishing ---


def test_only_leadership_publishes_a_policy(world, staff_policy):
    for user in (world.practitioner, world.dsl, world.parent, world.outsider):
        with pytest.raises(ServiceError, match="Only the leadership team"):
            services.publish_policy_version(user, nursery=world.nursery, kind=PolicyKind.STAFF, text="x",
                                            clauses=["a"], effective_on=timezone.localdate())


def test_it_refuses_a_staff_policy_without_clauses_or_in_force_in_the_past(world):
    publish = services.publish_policy_version
    with pytest.raises(ServiceError, match="clauses"):
        publish(world.leader, nursery=world.nursery, kind=PolicyKind.STAFF, text="x", clauses=[" "],
                effective_on=timezone.localdate())
    with pytest.raises(ServiceError, match="past"):
        publish(world.leader, nursery=world.nursery, kind=PolicyKind.STAFF, text="x", clauses=["a"],
                effective_on=timezone.localdate() - timedelta(days=1))


def test_publishing_a_version_in_force_today_asks_everyone_after_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.publish_policy_version(world.leader, nursery=world.nursery, kind=PolicyKind.PARENTS,
                                        text="Please.", clauses=[], effective_on=timezone.localdate())
    assert callbacks
    assert Notification.objects.filter(recipient=world.parent, subject__contains="acknowledge").count() == 1


# --- Reminders ---


def chase(now, world):
    return services.chase_acknowledgements(now=now, nursery_id=world.nursery.pk)


def reminders_to(user):
    return AcknowledgementChase.objects.filter(user=user, kind=ChaseKind.REMINDER).count()


def test_reminders_are_idempotent(world, staff_policy):
    now = timezone.now()
    first = chase(now, world)
    again = chase(now + timedelta(hours=6), world)
    assert first["reminders"] == 4  # leader, deputy, dsl, practitioner
    assert again == {"reminders": 0, "reported": 0}
    assert Notification.objects.filter(recipient=world.practitioner).count() == 1


def test_it_reminds_weekly_at_most_four_times_then_tells_leadership_once(world, staff_policy):
    for user in (world.leader, world.deputy, world.dsl):
        AcknowledgementFactory(version=staff_policy, user=user)
    start = timezone.now()
    for week in range(MAX_REMINDERS):
        chase(start + timedelta(days=7 * week), world)
        chase(start + timedelta(days=7 * week, hours=1), world)
        assert reminders_to(world.practitioner) == week + 1
    assert chase(start + timedelta(days=7 * MAX_REMINDERS - 1), world) == {"reminders": 0, "reported": 0}
    assert chase(start + timedelta(days=7 * MAX_REMINDERS), world) == {"reminders": 0, "reported": 1}
    assert chase(start + timedelta(days=7 * MAX_REMINDERS + 30), world) == {"reminders": 0, "reported": 0}
    assert reminders_to(world.practitioner) == MAX_REMINDERS
    told = Notification.objects.filter(subject__contains="still to acknowledge")
    assert sorted(n.recipient.username for n in told) == ["deputy", "leader"]
    assert world.practitioner.get_full_name() in told.first().body
    numbers = list(AcknowledgementChase.objects.filter(user=world.practitioner, kind=ChaseKind.REMINDER)
                   .values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4]


def test_it_stops_reminding_once_acknowledged(world, staff_policy):
    now = timezone.now()
    chase(now, world)
    acknowledge(world.practitioner, staff_policy, now=now + timedelta(days=1))
    chase(now + timedelta(days=8), world)
    assert reminders_to(world.practitioner) == 1
    assert reminders_to(world.dsl) == 2


def test_a_new_version_starts_the_reminders_again(world, staff_policy):
    now = timezone.now()
    for week in range(MAX_REMINDERS + 1):
        chase(now + timedelta(days=7 * week), world)
    newer = policy(world.nursery, PolicyKind.STAFF, effective_on=timezone.localdate())
    chase(now + timedelta(days=7 * MAX_REMINDERS + 1), world)
    assert AcknowledgementChase.objects.filter(version=newer, user=world.practitioner, number=1).exists()


def test_parents_are_reminded_of_the_parents_rules_not_the_staff_policy(world, staff_policy, parents_rules):
    chase(timezone.now(), world)
    assert list(AcknowledgementChase.objects.filter(user=world.parent).values_list("version", flat=True)) == [
        parents_rules.pk]
    assert not AcknowledgementChase.objects.filter(user=world.outsider).exists()
