"""Shared actors and service checks.

The actors, as in the policy: a leader, a second leader (deputy), a safeguarding lead, a practitioner,
a parent of one child (with parental responsibility) and an outsider who holds every role in another
nursery and must see nothing of this one.
"""

import os
import socket
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pytest

from nursery.models import Role
from tests.factories import (
    ChildFactory,
    GuardianshipFactory,
    MembershipFactory,
    NurseryFactory,
    RoomFactory,
    UserFactory,
    member,
)

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, what: str) -> None:
    """Skip a test that needs ``what`` when it is missing; in CI, fail instead."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true but is not available")
    pytest.skip(f"{what} is not available on this machine")


def port_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_url():
    require(port_open(REDIS_URL, 6379), f"Redis at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def postgres(db):
    from django.db import connection

    if connection.vendor != "postgresql" and os.environ.get("POSTGRES_PASS") == "later":
        pytest.skip("runs in the PostgreSQL pass that follows (make test-postgres)")
    require(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL=postgres://...)")
    return connection


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AXES_ENABLED = False
    settings.FIELD_ENCRYPTION_KEYS = ["dGVzdHMtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE="]  # pytest-django turns DEBUG off
    from nursery.celery import app

    # Tasks run in-process in unit tests; the worker tests start a real worker on Redis.
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture
def drain_outbox():
    """Play the dispatcher forward until nothing is left waiting (see tests/outbox.py)."""
    from tests.outbox import drain

    return drain


@dataclass
class World:
    nursery: object
    other_nursery: object
    leader: object
    deputy: object
    dsl: object
    practitioner: object
    parent: object
    child: object
    outsider: object
    extra: dict = field(default_factory=dict)

    def actor(self, name: str):
        return None if name == "anonymous" else getattr(self, name)


@pytest.fixture
def world(db) -> World:
    nursery = NurseryFactory(name="Kids Count")
    other = NurseryFactory(name="Little Acorns")
    leader = member(nursery, Role.LEADERSHIP, username="leader", first_name="Helen", last_name="Marsh")
    nursery.manager = leader
    deputy = member(nursery, Role.LEADERSHIP, username="deputy", first_name="Daniel", last_name="Reid")
    nursery.whistleblowing_officer = deputy
    nursery.save()
    dsl = member(nursery, Role.SAFEGUARDING_LEAD, username="dsl", first_name="Priya", last_name="Shah")
    practitioner = member(nursery, Role.STAFF, username="practitioner", first_name="Chloe", last_name="Bennett")
    child = ChildFactory(nursery=nursery, room=RoomFactory(nursery=nursery, name="Preschool"),
                         first_name="Amara", last_name="Okafor")
    parent = GuardianshipFactory(
        child=child, user=UserFactory(username="parent", first_name="Grace", last_name="Okafor")
    ).user
    outsider = UserFactory(username="outsider")
    for role in Role.values:
        MembershipFactory(user=outsider, nursery=other, role=role)
    return World(nursery, other, leader, deputy, dsl, practitioner, parent, child, outsider)


@pytest.fixture
def split_people(world) -> dict:
    """Two people with different roles in the two nurseries (see ``tests.access.SPLIT_ACTORS``)."""
    leader_elsewhere = member(world.other_nursery, Role.LEADERSHIP, username="leader_elsewhere")
    GuardianshipFactory(user=leader_elsewhere, child=world.child, relationship="father")
    parent_elsewhere = member(world.nursery, Role.LEADERSHIP, username="parent_elsewhere")
    GuardianshipFactory(user=parent_elsewhere, child=ChildFactory(nursery=world.other_nursery))
    return {"leader_elsewhere": leader_elsewhere, "parent_elsewhere": parent_elsewhere}


@pytest.fixture
def leader(world):
    return world.leader


@pytest.fixture
def dsl(world):
    return world.dsl


@pytest.fixture
def practitioner(world):
    return world.practitioner


@pytest.fixture
def parent(world):
    return world.parent


@pytest.fixture
def nursery(world):
    return world.nursery
