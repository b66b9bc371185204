"""Factories for the core and consent records; each app keeps its own in tests/<app>/factories.py."""

from datetime import date, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from consent.models import ConsentDecision, ConsentWording, Decision, Method, Scope
from nursery.models import Child, Guardianship, Membership, Nursery, Role, Room


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw-for-tests")


class NurseryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Nursery

    name = factory.Sequence(lambda n: f"Nursery {n}")
    contact_email = "office@nursery.example"


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    nursery = factory.SubFactory(NurseryFactory)
    name = factory.Sequence(lambda n: f"Room {n}")


class ChildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Child

    nursery = factory.SubFactory(NurseryFactory)
    room = factory.SubFactory(RoomFactory, nursery=factory.SelfAttribute("..nursery"))
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = date(2023, 5, 1)
    joined_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=200))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    nursery = factory.SubFactory(NurseryFactory)
    role = Role.STAFF


class GuardianshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guardianship
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    child = factory.SubFactory(ChildFactory)
    relationship = "mother"
    has_parental_responsibility = True

    @factory.post_generation
    def membership(obj, create, extracted, **kwargs):
        if create:
            Membership.objects.get_or_create(user=obj.user, nursery=obj.child.nursery, role=Role.PARENT)


class ConsentWordingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentWording
        django_get_or_create = ["nursery", "scope", "version"]

    nursery = factory.SubFactory(NurseryFactory)
    scope = Scope.CLOSED
    version = 1
    text = factory.LazyAttribute(lambda w: f"I agree to photos of my child on {w.nursery.name}'s {w.scope} pages.")
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=400))


class ConsentDecisionFactory(factory.django.DjangoModelFactory):
    """A decision straight into the ledger (tests of the rules); services are tested through services."""

    class Meta:
        model = ConsentDecision

    child = factory.SubFactory(ChildFactory)
    nursery = factory.SelfAttribute("child.nursery")
    scope = Scope.CLOSED
    decision = Decision.GRANTED
    guardian = factory.LazyAttribute(
        lambda d: GuardianshipFactory(child=d.child).user
    )
    signature = factory.LazyAttribute(lambda d: d.guardian.get_full_name() or d.guardian.username)
    wording = factory.LazyAttribute(lambda d: ConsentWordingFactory(nursery=d.child.nursery, scope=d.scope))
    decided_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    method = Method.ONLINE


def member(nursery: Nursery, role: str, **user_fields):
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, nursery=nursery, role=role)
    return user


def grant(child: Child, *scopes: str, guardian=None, **fields) -> list[ConsentDecision]:
    """Effective consent for ``child`` in each scope (closed when none given)."""
    return [
        ConsentDecisionFactory(child=child, scope=scope, **({"guardian": guardian} if guardian else {}), **fields)
        for scope in (scopes or (Scope.CLOSED,))
    ]
