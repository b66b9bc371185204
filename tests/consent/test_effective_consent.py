"""The effective-consent rule, clause by clause, with time passed in."""

from datetime import date, timedelta

import pytest

from consent.models import Decision, Scope
from consent.queries import (
    State,
    add_months,
    children_lacking_consent,
    consent_state,
    consent_states,
    has_effective_consent,
)
from tests.consent.conftest import at
from tests.consent.factories import wordings
from tests.factories import ChildFactory, ConsentDecisionFactory, GuardianshipFactory, grant

NOW = at(2026, 6, 15, 10, 0)
pytestmark = pytest.mark.django_db


@pytest.fixture
def family(world, wording):
    child = world.child
    mum = world.parent
    dad = GuardianshipFactory(child=child, relationship="father").user
    return child, mum, dad


def decide(child, guardian, decision=Decision.GRANTED, *, scope=Scope.CLOSED, when=NOW - timedelta(days=10),
           wording=None):
    return ConsentDecisionFactory(child=child, guardian=guardian, decision=decision, scope=scope,
                                  decided_at=when, **({"wording": wording} if wording else {}))


def test_it_holds_when_a_guardian_with_parental_responsibility_granted_the_current_wording(family):
    child, mum, _ = family
    decide(child, mum)
    assert has_effective_consent(child, Scope.CLOSED, now=NOW)
    assert consent_state(child, Scope.CLOSED, now=NOW).state == State.GRANTED


def test_it_does_not_hold_when_nobody_was_asked(family):
    child, _, _ = family
    state = consent_state(child, Scope.CLOSED, now=NOW)
    assert state.state == State.NOT_ASKED and not state.effective


def test_scopes_are_separate(family):
    child, mum, _ = family
    decide(child, mum, scope=Scope.CLOSED)
    assert has_effective_consent(child, Scope.CLOSED, now=NOW)
    assert not has_effective_consent(child, Scope.PUBLIC, now=NOW)


def test_one_guardians_withdrawal_outweighs_the_others_grant(family):
    child, mum, dad = family
    decide(child, mum, when=NOW - timedelta(days=10))
    decide(child, dad, Decision.WITHDRAWN, when=NOW - timedelta(days=20))
    assert consent_state(child, Scope.CLOSED, now=NOW).state == State.WITHDRAWN


def test_a_later_grant_by_the_guardian_who_withdrew_restores_it(family):
    child, mum, dad = family
    decide(child, mum, when=NOW - timedelta(days=10))
    decide(child, dad, Decision.WITHDRAWN, when=NOW - timedelta(days=9))
    assert not has_effective_consent(child, Scope.CLOSED, now=NOW)
    decide(child, dad, when=NOW - timedelta(days=1))
    assert has_effective_consent(child, Scope.CLOSED, now=NOW)


def test_the_guardians_latest_decision_counts_not_an_earlier_one(family):
    child, mum, _ = family
    decide(child, mum, when=NOW - timedelta(days=10))
    decide(child, mum, Decision.WITHDRAWN, when=NOW - timedelta(days=5))
    assert consent_state(child, Scope.CLOSED, now=NOW).state == State.WITHDRAWN


def test_a_guardian_without_parental_responsibility_is_ignored(family):
    child, _, _ = family
    carer = GuardianshipFactory(child=child, relationship="grandmother", has_parental_responsibility=False).user
    decide(child, carer)
    assert consent_state(child, Scope.CLOSED, now=NOW).state == State.NOT_ASKED
    # Their withdrawals are refused by the services (tests/consent/test_services.py), so a withdrawal in the
    # ledger was made with parental responsibility, and stands after it is lost (below).


def test_it_expires_exactly_at_the_renewal_boundary(family, world):
    child, mum, _ = family
    granted_at = at(2025, 6, 15, 10, 0)
    decide(child, mum, when=granted_at)
    boundary = add_months(granted_at, world.nursery.consent_renewal_months)
    assert boundary == at(2026, 6, 15, 10, 0)
    just_before = consent_state(child, Scope.CLOSED, now=boundary - timedelta(seconds=1))
    assert just_before.effective and just_before.state == State.RENEWAL_DUE
    at_boundary = consent_state(child, Scope.CLOSED, now=boundary)
    assert at_boundary.state == State.EXPIRED and not at_boundary.effective
    assert at_boundary.expires_at == boundary


def test_renewal_is_due_from_thirty_days_before_expiry(family):
    child, mum, _ = family
    decide(child, mum, when=at(2025, 7, 20, 9, 0))  # expires 20 July 2026
    assert consent_state(child, Scope.CLOSED, now=at(2026, 6, 20, 8, 59)).state == State.GRANTED
    assert consent_state(child, Scope.CLOSED, now=at(2026, 6, 20, 9, 0)).state == State.RENEWAL_DUE


def test_the_renewal_period_is_the_nurserys_setting(family, world):
    child, mum, _ = family
    world.nursery.consent_renewal_months = 6
    world.nursery.save()
    decide(child, mum, when=NOW - timedelta(days=200))
    assert consent_state(child, Scope.CLOSED, now=NOW).state == State.EXPIRED


def test_a_new_wording_version_makes_old_grants_not_current(family, world):
    child, mum, _ = family
    decide(child, mum)
    new = wordings(world.nursery, version=2)
    state = consent_state(child, Scope.CLOSED, now=NOW)
    assert state.state == State.WORDING_CHANGED and not state.effective
    decide(child, mum, when=NOW - timedelta(hours=1), wording=new[Scope.CLOSED])
    assert consent_state(child, Scope.CLOSED, now=NOW).effective


def test_it_stops_when_the_child_leaves(family):
    child, mum, _ = family
    decide(child, mum)
    child.left_on = date(2026, 6, 15)
    child.save()
    assert has_effective_consent(child, Scope.CLOSED, now=at(2026, 6, 14, 23, 59))
    assert consent_state(child, Scope.CLOSED, now=at(2026, 6, 15, 0, 0)).state == State.LEFT


def test_time_is_passed_in_not_read_from_the_clock(family):
    child, mum, _ = family
    child.joined_on = date(2019, 9, 1)
    child.save()
    decide(child, mum, when=at(2020, 1, 10, 12, 0))
    assert has_effective_consent(child, Scope.CLOSED, now=at(2020, 1, 11, 12, 0))
    assert not has_effective_consent(child, Scope.CLOSED, now=at(2021, 1, 11, 12, 0))


def test_children_lacking_consent_lists_only_those_without(world, wording):
    with_consent = ChildFactory(nursery=world.nursery)
    grant(with_consent, Scope.CLOSED)
    lacking = children_lacking_consent([with_consent.pk, world.child.pk], [Scope.CLOSED])
    assert [(s.child_id, s.scope) for s in lacking] == [(world.child.pk, Scope.CLOSED)]


@pytest.mark.parametrize("count", [5, 500])
def test_consent_states_needs_the_same_few_queries_for_5_and_500_children(world, wording, count,
                                                                          django_assert_max_num_queries):
    children = ChildFactory.create_batch(count, nursery=world.nursery, room=world.child.room)
    for child in children[::2]:
        grant(child, Scope.CLOSED, Scope.PUBLIC)
    with django_assert_max_num_queries(3):
        states = consent_states([c.pk for c in children], now=NOW)
    assert len(states) == 2 * count
    assert sum(s.effective for s in states.values()) == 2 * len(children[::2])


# --- A withdrawal stands until a new grant answers it -------------------------------------------------


@pytest.mark.parametrize("how", ["guardianship deleted", "parental responsibility unticked"])
def test_a_withdrawal_stands_when_the_guardian_who_withdrew_stops_counting(family, how):
    child, mum, dad = family
    decide(child, mum, when=NOW - timedelta(days=10))
    decide(child, dad, Decision.WITHDRAWN, when=NOW - timedelta(days=5))
    guardianship = child.guardianships.get(user=dad)
    if how == "guardianship deleted":
        guardianship.delete()  # as the admin did, bypassing every service
    else:
        guardianship.has_parental_responsibility = False
        guardianship.save()
    state = consent_state(child, Scope.CLOSED, now=NOW)
    assert state.state == State.WITHDRAWN and not state.effective
    assert state.latest.guardian == dad


def test_a_standing_withdrawal_is_answered_by_a_later_grant_of_a_guardian_with_responsibility(family):
    child, mum, dad = family
    decide(child, mum, when=NOW - timedelta(days=10))
    decide(child, dad, Decision.WITHDRAWN, when=NOW - timedelta(days=5))
    child.guardianships.filter(user=dad).delete()
    decide(child, mum, when=NOW - timedelta(days=1))
    assert consent_state(child, Scope.CLOSED, now=NOW).state == State.GRANTED


def test_a_grant_from_someone_without_responsibility_answers_nothing(family):
    child, mum, dad = family
    decide(child, dad, Decision.WITHDRAWN, when=NOW - timedelta(days=5))
    child.guardianships.filter(user=dad).delete()
    granny = GuardianshipFactory(child=child, relationship="grandmother", has_parental_responsibility=False).user
    decide(child, granny, when=NOW - timedelta(days=1))
    assert consent_state(child, Scope.CLOSED, now=NOW).state == State.WITHDRAWN


def test_a_former_guardians_own_later_grant_clears_their_withdrawal_but_counts_for_nothing(family):
    child, mum, dad = family
    decide(child, dad, Decision.WITHDRAWN, when=NOW - timedelta(days=5))
    decide(child, dad, when=NOW - timedelta(days=3))
    child.guardianships.filter(user=dad).delete()
    assert consent_state(child, Scope.CLOSED, now=NOW).state == State.NOT_ASKED


def test_a_standing_withdrawal_holds_in_its_scope_only(family):
    child, mum, dad = family
    decide(child, mum, scope=Scope.PUBLIC)
    decide(child, dad, Decision.WITHDRAWN, when=NOW - timedelta(days=5))
    child.guardianships.filter(user=dad).delete()
    states = consent_states([child.pk], now=NOW)
    assert states[(child.pk, Scope.CLOSED)].state == State.WITHDRAWN
    assert states[(child.pk, Scope.PUBLIC)].state == State.GRANTED
