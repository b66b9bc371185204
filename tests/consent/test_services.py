"""Granting and withdrawing online: the rules, bad input, replays, double submits and the withdrawal seam."""

import pytest
from django.core import mail
from django.db import connection, transaction

from consent.models import ConsentDecision, Decision, Method, Scope
from consent.queries import State, consent_state
from consent.services import AlreadyRecorded, grant_consent, latest_decision_id, withdraw_consent
from consent.signals import consent_withdrawn
from nursery.errors import ServiceError
from nursery.models import Notification
from nursery.services import remove_guardian
from tests.consent.factories import wordings
from tests.factories import ChildFactory, GuardianshipFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def withdrawals():
    received = []

    def handler(sender, **kwargs):
        received.append({**kwargs, "in_transaction": connection.in_atomic_block})

    consent_withdrawn.connect(handler, weak=False)
    yield received
    consent_withdrawn.disconnect(handler)


def give(world, wording, scope=Scope.CLOSED, **kwargs):
    kwargs.setdefault("signature", "Grace Okafor")
    return grant_consent(world.parent, child=world.child, scope=scope, wording_id=wording[scope].pk, **kwargs)


def test_a_parent_grants_and_the_ledger_records_how(world, wording):
    decision = give(world, wording, ip_address="203.0.113.7", user_agent="Phone browser")
    assert (decision.decision, decision.method, decision.signature) == (Decision.GRANTED, Method.ONLINE,
                                                                        "Grace Okafor")
    assert decision.wording == wording[Scope.CLOSED]
    assert decision.ip_address == "203.0.113.7" and decision.user_agent == "Phone browser"
    assert consent_state(world.child, Scope.CLOSED).effective


def test_the_grant_is_audited_with_who_and_why(world, wording):
    decision = give(world, wording)
    row = decision.history.get()
    assert row.history_user == world.parent
    assert "Granted closed photo consent" in row.history_change_reason


def test_a_confirmation_with_the_wording_is_emailed(world, wording, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        give(world, wording)
    mine = [m for m in mail.outbox if world.parent.email in m.to]
    assert len(mine) == 1
    assert wording[Scope.CLOSED].text in mine[0].body
    assert "withdraw" in mine[0].body.lower()


@pytest.mark.parametrize("signature", ["", "   ", "\t\n", "x", "12345", "<script>", "Grace 0kafor!"])
def test_it_refuses_a_signature_that_is_not_a_name(world, wording, signature):
    with pytest.raises(ServiceError, match="full name"):
        give(world, wording, signature=signature)
    assert not ConsentDecision.objects.exists()


def test_it_tidies_spaces_in_the_signature(world, wording):
    assert give(world, wording, signature="  Grace   Okafor ").signature == "Grace Okafor"


def test_it_refuses_a_tampered_wording_id(world, wording):
    other = wordings(world.other_nursery)
    for tampered in (other[Scope.CLOSED].pk, wording[Scope.PUBLIC].pk, 999999):
        with pytest.raises(ServiceError, match="wording has changed"):
            grant_consent(world.parent, child=world.child, scope=Scope.CLOSED, wording_id=tampered,
                          signature="Grace Okafor")
    assert not ConsentDecision.objects.exists()


def test_it_refuses_an_old_wording_after_a_new_version(world, wording):
    wordings(world.nursery, version=2)
    with pytest.raises(ServiceError, match="wording has changed"):
        give(world, wording)


def test_it_refuses_a_child_who_is_not_theirs(world, wording):
    stranger = ChildFactory(nursery=world.nursery)
    with pytest.raises(ServiceError):
        grant_consent(world.parent, child=stranger, scope=Scope.CLOSED, wording_id=wording[Scope.CLOSED].pk,
                      signature="Grace Okafor")
    with pytest.raises(ServiceError):
        withdraw_consent(world.parent, child=stranger, scope=Scope.CLOSED)
    assert not ConsentDecision.objects.exists()


def test_it_refuses_a_scope_that_does_not_exist(world, wording):
    with pytest.raises(ServiceError):
        grant_consent(world.parent, child=world.child, scope="everywhere", wording_id=wording[Scope.CLOSED].pk,
                      signature="Grace Okafor")
    assert not ConsentDecision.objects.exists()


def test_a_guardian_without_parental_responsibility_cannot_decide(world, wording):
    granny = GuardianshipFactory(child=world.child, has_parental_responsibility=False).user
    with pytest.raises(ServiceError, match="parental responsibility"):
        grant_consent(granny, child=world.child, scope=Scope.CLOSED, wording_id=wording[Scope.CLOSED].pk,
                      signature="Granny Okafor")
    with pytest.raises(ServiceError, match="parental responsibility"):
        withdraw_consent(granny, child=world.child, scope=Scope.CLOSED)
    assert not ConsentDecision.objects.exists()


def test_a_double_submit_records_one_decision(world, wording):
    seen = latest_decision_id(world.child, Scope.CLOSED)
    give(world, wording, seen_decision_id=seen)
    with pytest.raises(AlreadyRecorded):
        give(world, wording, seen_decision_id=seen)
    first = withdraw_consent(world.parent, child=world.child, scope=Scope.CLOSED,
                             seen_decision_id=latest_decision_id(world.child, Scope.CLOSED))
    with pytest.raises(AlreadyRecorded):
        withdraw_consent(world.parent, child=world.child, scope=Scope.CLOSED, seen_decision_id=first.pk - 1)
    assert ConsentDecision.objects.count() == 2


def test_it_refuses_a_form_replayed_after_a_newer_decision(world, wording):
    dad = GuardianshipFactory(child=world.child, relationship="father").user
    seen_by_mum = latest_decision_id(world.child, Scope.CLOSED)
    withdraw_consent(dad, child=world.child, scope=Scope.CLOSED)
    with pytest.raises(ServiceError, match="newer decision"):
        give(world, wording, seen_decision_id=seen_by_mum)
    assert ConsentDecision.objects.count() == 1
    give(world, wording, seen_decision_id=latest_decision_id(world.child, Scope.CLOSED))
    assert ConsentDecision.objects.count() == 2


def test_a_stale_withdraw_form_is_refused_too(world, wording):
    seen = latest_decision_id(world.child, Scope.CLOSED)
    give(world, wording)
    with pytest.raises(ServiceError, match="newer decision"):
        withdraw_consent(world.parent, child=world.child, scope=Scope.CLOSED, seen_decision_id=seen)


def test_withdrawal_takes_effect_at_once(world, wording):
    give(world, wording)
    withdraw_consent(world.parent, child=world.child, scope=Scope.CLOSED)
    assert not consent_state(world.child, Scope.CLOSED).effective


def test_the_seam_fires_once_per_withdrawal_after_commit(world, wording, withdrawals,
                                                         django_capture_on_commit_callbacks):
    give(world, wording)
    with django_capture_on_commit_callbacks(execute=True):
        decision = withdraw_consent(world.parent, child=world.child, scope=Scope.CLOSED)
        assert withdrawals == [], "the seam must wait for the commit"
    assert len(withdrawals) == 1
    assert withdrawals[0]["decision"] == decision
    assert (withdrawals[0]["child_id"], withdrawals[0]["scope"]) == (world.child.pk, Scope.CLOSED)
    assert withdrawals[0]["withdrawn_by"] == world.parent


def test_the_seam_does_not_fire_for_a_grant(world, wording, withdrawals, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        give(world, wording)
    assert withdrawals == []


def test_the_seam_does_not_fire_when_the_withdrawal_rolls_back(world, wording, withdrawals,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        withdraw_consent(world.parent, child=world.child, scope=Scope.CLOSED)
        raise RuntimeError("something later in the same transaction failed")
    assert withdrawals == []
    assert not ConsentDecision.objects.exists()


def test_the_seam_fires_outside_the_transaction_for_real(transactional_db, withdrawals):
    from tests.factories import NurseryFactory

    nursery = NurseryFactory()
    child = ChildFactory(nursery=nursery)
    parent = GuardianshipFactory(child=child).user
    wordings(nursery)
    withdraw_consent(parent, child=child, scope=Scope.PUBLIC)
    assert len(withdrawals) == 1
    assert withdrawals[0]["in_transaction"] is False


def test_other_guardians_and_leadership_hear_of_a_withdrawal(world, wording):
    dad = GuardianshipFactory(child=world.child, relationship="father").user
    withdraw_consent(world.parent, child=world.child, scope=Scope.PUBLIC)
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert {world.parent.username, dad.username, world.leader.username, world.deputy.username} <= recipients
    assert world.practitioner.username not in recipients


def test_a_parent_renews_the_same_wording_when_renewal_is_due(world, wording):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    give(world, wording, now=now - timedelta(days=350))
    assert consent_state(world.child, Scope.CLOSED, now=now).state == "renewal_due"
    give(world, wording, now=now)
    assert consent_state(world.child, Scope.CLOSED, now=now).state == "granted"
    with pytest.raises(AlreadyRecorded):
        give(world, wording, now=now)


def test_a_guardian_can_answer_a_standing_withdrawal_with_the_same_wording_again(world, wording):
    mum, child = world.parent, world.child
    grant(child, Scope.CLOSED, guardian=mum, wording=wording[Scope.CLOSED])
    dad = GuardianshipFactory(child=child, relationship="father").user
    withdraw_consent(dad, child=child, scope=Scope.CLOSED)
    remove_guardian(world.leader, guardianship=child.guardianships.get(user=dad), reason="Court order")
    assert consent_state(child, Scope.CLOSED).state == State.WITHDRAWN
    grant_consent(mum, child=child, scope=Scope.CLOSED, wording_id=wording[Scope.CLOSED].pk,
                  signature="Grace Okafor")
    assert consent_state(child, Scope.CLOSED).state == State.GRANTED


def test_it_refuses_a_signature_that_is_not_the_signers_name(world, wording):
    with pytest.raises(ServiceError, match="Grace Okafor"):
        give(world, wording, signature="Mickey Mouse")
    assert not ConsentDecision.objects.exists()
