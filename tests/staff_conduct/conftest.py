from datetime import timedelta

import pytest
from django.utils import timezone

from staff_conduct import services
from staff_conduct.models import Outcome, PolicyKind, Source
from tests.staff_conduct.factories import policy


@pytest.fixture
def staff_policy(world):
    return policy(world.nursery, PolicyKind.STAFF)


@pytest.fixture
def parents_rules(world):
    return policy(world.nursery, PolicyKind.PARENTS, clauses=["Do not send friend requests to staff."])


@pytest.fixture
def report(world, staff_policy):
    """A named report by the safeguarding lead about the practitioner, as the service makes it."""

    def make(*, by=None, subject=None, source=Source.NAMED, **extra):
        occurred_on = extra.pop("occurred_on", timezone.localdate() - timedelta(days=1))
        return services.report_incident(
            by or world.dsl, nursery=world.nursery, subject=subject or world.practitioner, source=source,
            occurred_on=occurred_on, description="Posted in uniform, naming us.",
            clauses=list(staff_policy.clauses.all()[:2]), **extra,
        )

    return make


@pytest.fixture
def investigating(world, report):
    incident = report()
    return services.assign_investigator(
        world.deputy, incident=incident, investigator=world.deputy, due_on=timezone.localdate() + timedelta(days=7)
    )


@pytest.fixture
def decided(world, investigating):
    return services.decide_outcome(
        world.leader, incident=investigating, outcome=Outcome.VERBAL_WARNING, reason="Named the setting publicly.",
        decided_on=timezone.localdate(),
    )
