"""Two submits racing on PostgreSQL: the child row lock lets one decision through, the other is refused."""

import threading

import pytest
from django.db import connection

from consent.models import ConsentDecision, Scope
from consent.services import grant_consent, withdraw_consent
from nursery.errors import ServiceError
from tests.consent.factories import wordings
from tests.factories import ChildFactory, GuardianshipFactory, NurseryFactory

pytestmark = pytest.mark.postgres


def race(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("recorded")
        except ServiceError as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def family(postgres, transactional_db):
    nursery = NurseryFactory()
    child = ChildFactory(nursery=nursery)
    mum = GuardianshipFactory(child=child).user
    dad = GuardianshipFactory(child=child, relationship="father").user
    return child, mum, dad, wordings(nursery)


def test_a_double_submit_racing_itself_records_one_grant(family):
    child, mum, _, wording = family

    def submit():
        grant_consent(mum, child=child, scope=Scope.CLOSED, wording_id=wording[Scope.CLOSED].pk,
                      signature=mum.get_full_name(), seen_decision_id=None)

    outcomes = race(submit, submit)
    assert sorted(outcomes) == sorted(["recorded", "You have already given this consent; nothing has changed."])
    assert ConsentDecision.objects.count() == 1


def test_a_grant_racing_the_other_parents_withdrawal_is_refused_or_seen(family):
    child, mum, dad, wording = family
    outcomes = race(
        lambda: grant_consent(mum, child=child, scope=Scope.CLOSED, wording_id=wording[Scope.CLOSED].pk,
                              signature=mum.get_full_name(), seen_decision_id=None),
        lambda: withdraw_consent(dad, child=child, scope=Scope.CLOSED, seen_decision_id=None),
    )
    assert outcomes.count("recorded") == 1, outcomes
    assert any("newer decision" in o for o in outcomes)
    assert ConsentDecision.objects.count() == 1
